import type { Context } from "hono";
import type { Db } from "../db/types";
import type { CallerGuard } from "../functions/domain/caller-guard";
import type { PausedGenerator, PolicyView } from "../functions/domain/read-models";
import type { SignInLimiter } from "../functions/domain/sign-in-limiter";
import type { Surge } from "../functions/domain/signals";
import type { AppVariables } from "../functions/http/env";
import type { CredentialCheck } from "../functions/http/principal";
import { hasRole, type Principal } from "../functions/http/principal";

/** The mount point of the admin page; links, redirects and the cookie path are built from it. */
export const ADMIN_BASE = "/admin";

export interface AdminDeps {
  db: Db;
  /** Signs the session cookie and derives CSRF tokens; at least 32 characters. */
  sessionSecret: string;
  /** Cloudflare Access verification, the API's own, when Access is configured. */
  access?: CredentialCheck | undefined;
  /**
   * Failed token sign-ins allowed per client address; the entry picks the store.
   * Without one, the page keeps its own in memory.
   */
  signInLimiter?: SignInLimiter | undefined;
}

export interface LayoutProps {
  title: string;
  /** Which item of the top navigation is current. */
  section?: "jobs" | "intents" | "batches" | "audit" | "generators";
}

/** The server's caller context, plus what the signed-in pages need. */
export type AdminEnv = {
  Variables: AppVariables & {
    /** The per-session token every form carries back. */
    csrfToken: string;
    /** `token:<id>` → the token's name, to show people rather than ids. */
    tokenNames: Map<string, string>;
    /** Whether retries surge, for the banner; read with the session. */
    surge?: Surge | undefined;
    /** The generators paused now, for the banner; read with the session. */
    pausedGenerators: PausedGenerator[];
    /** The catalog's generator names, on a page that asked for them (askForCatalog). */
    catalog?: string[] | undefined;
    /** The database's policy (budget, lifetimes, four-eyes, largest batch), read with the session. */
    policy: PolicyView;
    /** The database's clock (ms since the epoch) when it read the session. */
    databaseNow: number;
    /** How this request's statements prove its caller (functions/domain/caller-guard.ts). */
    callerGuard?: CallerGuard;
    /** The database without the guard, for what a refused caller is answered with. */
    unguardedDb?: Db;
    /** The server-side session a token sign-in holds; unset for an Access identity. */
    adminSessionId?: string;
  };
};

export type AdminContext = Context<AdminEnv>;

declare module "hono" {
  interface ContextRenderer {
    // biome-ignore lint/style/useShorthandFunctionType: only an interface merges with Hono's declaration
    (content: string | Promise<string>, props: LayoutProps): Response | Promise<Response>;
  }
}

/** The strongest role a principal holds, as the page shows it. */
export function roleLabel(principal: Principal): "admin" | "viewer" | "submitter" {
  if (hasRole(principal, "admin")) return "admin";
  return hasRole(principal, "viewer") ? "viewer" : "submitter";
}

/** Admins change things; viewers read. */
export const canMutate = (c: AdminContext): boolean => hasRole(c.var.principal, "admin");

/** A path under the admin mount point. */
export const adminPath = (path = ""): string => `${ADMIN_BASE}${path}`;
