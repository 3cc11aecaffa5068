/**
 * The worker runtime's environment: one schema for the Cron Worker (functions/worker.ts),
 * `npm run worker`, the loop inside `npm start`, and the deploy check (infra/config.ts). A bad
 * value stops the worker before it claims anything, and stops a deployment before it happens,
 * with the same message naming the variable.
 */
import { z } from "zod";
import {
  credential,
  describeIssues,
  headersJson,
  httpUrl,
  optionalText,
  optionalWholeNumber,
  pickVariables,
  postgresUrl,
  wholeNumber,
} from "./fields";
import { type SurgeConfig, surgeConfigOf, surgeVariables } from "./signals";

export const workerEnvSchema = z
  .object({
    DATABASE_URL: postgresUrl,
    NEON_WS_PROXY: optionalText,
    /** Jobs taken by one claim statement, and at most this many finished per transaction. */
    WORKER_BATCH_SIZE: wholeNumber({ min: 1, max: 5000, fallback: 500 }),
    /** Jobs whose generators run at once; overlaps I/O-bound generators such as `http`. */
    WORKER_CONCURRENCY: wholeNumber({ min: 1, max: 1000, fallback: 16 }),
    /** A claim lapses after this long; the sweeper then fails the job with LEASE_EXPIRED. */
    WORKER_LEASE_SECONDS: wholeNumber({ min: 10, max: 86_400, fallback: 300 }),
    /** One invocation stops claiming after this long. */
    WORKER_BUDGET_MS: wholeNumber({
      min: 100,
      max: 900_000,
      fallback: 25_000,
      maxReason: "Cloudflare ends a Cron Trigger's invocation after 15 minutes",
    }),
    /**
     * Subrequests one invocation may make, as Cloudflare limits them per invocation
     * (functions/execution/subrequests.ts). Unset: the Free plan's 50 in the claimer's Worker,
     * no limit on Node.
     */
    WORKER_SUBREQUEST_BUDGET: optionalWholeNumber({
      min: 10,
      max: 10_000_000,
      maxReason: "Cloudflare allows at most 10 million subrequests an invocation",
    }),
    /** Pause between invocations of the loop inside `npm start` and `npm run worker`. */
    WORKER_INTERVAL_MS: wholeNumber({ min: 100, max: 3_600_000, fallback: 2_000 }),
    /** One generator run may take this long before its job fails with GENERATOR_TIMEOUT. */
    JOB_TIMEOUT_MS: wholeNumber({ min: 10, max: 3_600_000, fallback: 60_000 }),
    HTTP_GENERATOR_URL: httpUrl,
    HTTP_GENERATOR_TIMEOUT_MS: wholeNumber({ min: 10, max: 3_600_000, fallback: 30_000 }),
    HTTP_GENERATOR_HEADERS: headersJson,
    /** Where the worker POSTs its signed digest of new failures and surges; unset: no alerts. */
    ALERT_WEBHOOK_URL: httpUrl,
    /** Signs each digest (HMAC-SHA256, `Regent-Signature`); required with ALERT_WEBHOOK_URL. */
    ALERT_WEBHOOK_SECRET: credential,
    ...surgeVariables,
  })
  .check((ctx) => {
    if (ctx.value.ALERT_WEBHOOK_URL && !ctx.value.ALERT_WEBHOOK_SECRET) {
      ctx.issues.push({
        code: "custom",
        input: undefined,
        path: ["ALERT_WEBHOOK_SECRET"],
        message: "is required with ALERT_WEBHOOK_URL: receivers check each digest's signature",
      });
    }
    // Compared only when both are valid, so that one mistake is reported once.
    const involved = ["JOB_TIMEOUT_MS", "WORKER_LEASE_SECONDS"];
    if (ctx.issues.some((issue) => involved.includes(String(issue.path?.[0])))) return;
    const { JOB_TIMEOUT_MS, WORKER_LEASE_SECONDS } = ctx.value;
    // A job that may still be running when its lease lapses would be failed under its feet.
    if (JOB_TIMEOUT_MS >= WORKER_LEASE_SECONDS * 1000) {
      ctx.issues.push({
        code: "custom",
        input: JOB_TIMEOUT_MS,
        path: ["JOB_TIMEOUT_MS"],
        message: `must be shorter than the lease (WORKER_LEASE_SECONDS = ${WORKER_LEASE_SECONDS} s), or a running job's claim lapses under it`,
      });
    }
  });

/** The worker's environment as a Worker receives it: every variable an optional string. */
export type WorkerEnv = z.input<typeof workerEnvSchema>;

export interface WorkerConfig {
  /** Unset only on Node, where the embedded database is used. */
  databaseUrl: string | undefined;
  neonWsProxy: string | undefined;
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  budgetMs: number;
  /** WORKER_SUBREQUEST_BUDGET; unset, each runtime has its own default. */
  subrequestBudget: number | undefined;
  intervalMs: number;
  jobTimeoutMs: number;
  http: { url?: string | undefined; timeoutMs: number; headers: Record<string, string> };
  /** Set when alerts are configured. */
  alerts: { url: string; secret: string } | undefined;
  surge: SurgeConfig;
}

/** A worker configuration that cannot run; the message names each offending variable. */
export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

/**
 * Reads and checks the worker's settings once, at start, so that a bad value stops the worker
 * before it claims anything; throws WorkerConfigError listing every problem at once.
 */
export function loadWorkerConfig(env: object): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(pickVariables(env, Object.keys(workerEnvSchema.shape)));
  if (!parsed.success) {
    const lines = describeIssues(parsed.error.issues).map((line) => `  ${line}`);
    throw new WorkerConfigError(`invalid worker configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.DATABASE_URL,
    neonWsProxy: e.NEON_WS_PROXY,
    batchSize: e.WORKER_BATCH_SIZE,
    concurrency: e.WORKER_CONCURRENCY,
    leaseSeconds: e.WORKER_LEASE_SECONDS,
    budgetMs: e.WORKER_BUDGET_MS,
    subrequestBudget: e.WORKER_SUBREQUEST_BUDGET,
    intervalMs: e.WORKER_INTERVAL_MS,
    jobTimeoutMs: e.JOB_TIMEOUT_MS,
    http: {
      url: e.HTTP_GENERATOR_URL,
      timeoutMs: e.HTTP_GENERATOR_TIMEOUT_MS,
      headers: e.HTTP_GENERATOR_HEADERS,
    },
    alerts:
      e.ALERT_WEBHOOK_URL && e.ALERT_WEBHOOK_SECRET
        ? { url: e.ALERT_WEBHOOK_URL, secret: e.ALERT_WEBHOOK_SECRET }
        : undefined,
    surge: surgeConfigOf(e),
  };
}
