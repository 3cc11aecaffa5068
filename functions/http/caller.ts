import type { MiddlewareHandler } from "hono";
import { requestId } from "hono/request-id";
import type { AuditContext } from "../domain/audit";
import type { AppEnv, AppVariables, ClientAddress } from "./env";

export type { Caller, ClientAddress } from "./env";

/**
 * On Cloudflare the edge sets `Cf-Connecting-IP` and overwrites any value a client sent, so it
 * is the caller's address. Anywhere else that header is just another client header.
 */
export const cloudflareClientAddress: ClientAddress = (c) => c.req.header("cf-connecting-ip");

/** The user agent is the caller's own words: kept, but bounded. */
export const USER_AGENT_MAX = 512;
const ADDRESS_MAX = 100;

/**
 * Sets, once per request, what every handler and every audit row reads: the request id (made
 * here, never taken from the client: it is written into the audit log), the database and
 * configuration, and the caller's address and user agent. The address comes only from
 * `clientAddress`, the runtime's own knowledge (the socket, or Cloudflare's header on Workers),
 * so a client cannot write another address into the audit log with a header of its choosing.
 *
 * @example
 * app.use("*", callerContext({ db, config, clientAddress: cloudflareClientAddress }));
 */
export function callerContext(deps: {
  db: AppEnv["Variables"]["db"];
  config: AppEnv["Variables"]["config"];
  clientAddress?: ClientAddress | undefined;
}): MiddlewareHandler<AppEnv> {
  // An empty header name: the id is always ours; the response header is set below.
  const assignId = requestId({ headerName: "" });
  return async function callerContext(c, next) {
    await assignId(c, async () => {});
    c.header("X-Request-Id", c.var.requestId);
    c.set("db", deps.db);
    c.set("config", deps.config);
    c.set("caller", {
      ip: deps.clientAddress?.(c)?.trim().slice(0, ADDRESS_MAX) || null,
      userAgent: c.req.header("user-agent")?.slice(0, USER_AGENT_MAX) ?? null,
    });
    try {
      await next();
    } catch (thrown) {
      // Hono hands only Error instances to onError; anything else would escape as a bare 500.
      throw thrown instanceof Error ? thrown : new Error(`non-Error thrown: ${String(thrown)}`);
    }
  };
}

/**
 * Who did it and from where, for the audit events of a change made by this request: the
 * signed-in principal, or `actor` for a request no principal is known for (a refused one).
 */
export function auditContext(c: { var: AppVariables }, actor?: string): AuditContext {
  return {
    actor: actor ?? c.var.principal.actor,
    requestId: c.var.requestId,
    ip: c.var.caller.ip,
    userAgent: c.var.caller.userAgent,
  };
}
