import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Db } from "../../db/types";
import type { Config } from "../config/api";
import type { FailureLimiter } from "../domain/failure-limiter";
import type { InputSchemas } from "../domain/generators";
import type { CredentialCheck, Principal } from "./principal";

/** Where the caller's address comes from in this runtime; undefined when it cannot know. */
export type ClientAddress = (c: Context) => string | undefined;

/** Who calls and from where, known before any credential is looked at. */
export interface Caller {
  ip: string | null;
  userAgent: string | null;
}

/** What the HTTP layer needs from the outside world; the Worker, Node and tests each supply it. */
export interface AppDeps {
  db: Db;
  config: Config;
  /** Cloudflare Access verification, when Access is configured (see `accessJwt`). */
  access?: CredentialCheck | undefined;
  /** The caller's address as this runtime knows it (the socket, or Cloudflare's header). */
  clientAddress?: ClientAddress | undefined;
  /**
   * The generators' input schemas as read from the catalog, kept between requests when the
   * runtime keeps anything (a Worker isolate, a Node process); default: this app's own.
   */
  inputSchemas?: InputSchemas | undefined;
  /**
   * Where failed authentications are counted per client address. It must outlive the app when
   * the app does not outlive a request (the Worker builds one per request); default: this app's
   * memory, with the configured limit.
   */
  authLimiter?: FailureLimiter | undefined;
}

/** Per-request values every handler can read with `c.var`. */
export interface AppVariables {
  requestId: string;
  db: Db;
  config: Config;
  caller: Caller;
  /** How this app turns a request's credentials into a principal. */
  resolvePrincipal: CredentialCheck;
  /** Where this app counts failed authentications, and asks whether an address is over the limit. */
  authLimiter: FailureLimiter;
  /** Set once the caller is known and allowed (`requireRole`, or the admin page's sign-in). */
  principal: Principal;
}

export type AppEnv = { Variables: AppVariables };

export type App = OpenAPIHono<AppEnv>;
