import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { JWTVerifyGetKey } from "jose";
import type { Db } from "../../db/types";
import type { AuditContext } from "../domain/audit";
import type { Config } from "./config";
import type { CredentialCheck, Principal } from "./principal";

/** What the HTTP layer needs from the outside world; the Worker, Node and tests each supply it. */
export interface AppDeps {
  db: Db;
  config: Config;
  /**
   * Where Access signing keys come from. Defaults to the team's published key set
   * (`config.access.certsUrl`); a long-lived process should pass one set so keys stay cached.
   */
  accessKeys?: JWTVerifyGetKey;
  /**
   * More ways of proving identity, tried before the API token and the Access assertion
   * (for example a session cookie); each answers "absent" when its credential is not there.
   */
  credentialChecks?: CredentialCheck[];
  /** The caller's address as this runtime knows it; defaults to `Cf-Connecting-IP`. */
  clientIp?: (c: Context) => string | undefined;
}

/** Per-request values every handler can read with `c.var`. */
export interface AppVariables {
  requestId: string;
  db: Db;
  config: Config;
  clientIp: string | undefined;
  /** Turns a request's credentials into a principal; set once per app. */
  resolvePrincipal: CredentialCheck;
  /** Set by `requireRole` once the caller is known and allowed. */
  principal: Principal;
}

export type AppEnv = { Variables: AppVariables };

export type App = OpenAPIHono<AppEnv>;

/** Who did it and from where, for the audit events of a change made by this request. */
export function auditContext(c: Context<AppEnv>): AuditContext {
  return {
    actor: c.var.principal.actor,
    requestId: c.var.requestId,
    ip: c.var.clientIp ?? null,
    userAgent: c.req.header("user-agent")?.slice(0, 512) ?? null,
  };
}
