/**
 * Runtime settings shared by the deployed Workers and the local workerd (miniflare) tests, so
 * that both run the entry points under the same rules. Plain values: importable from Node,
 * vitest and `sst.config.ts` alike.
 */

/**
 * Cloudflare refuses a date newer than its runtime knows, and a local workerd fails the same
 * way: keep this at or before the date of the installed workerd (1.20260730 → 2026-07-30).
 */
export const compatibilityDate = "2026-07-01";

/**
 * SST's Worker bundle starts with `import { createRequire } from "module"` and leaves `node:*`
 * imports to the runtime, and the entry points share Node-flavoured code with the Node server:
 * workerd provides Node's built-in modules only with this flag.
 */
export const compatibilityFlags: readonly string[] = ["nodejs_compat"];

/**
 * Smart Placement: Cloudflare may run the Worker near the back end it talks to rather than near
 * the caller. Each request and each Cron invocation makes several round trips to PostgreSQL,
 * which lives in one region, so running beside it saves more than the one hop from the caller.
 * Deployed only; the local workerd tests have no placement.
 */
export const placement = { mode: "smart" } as const;
