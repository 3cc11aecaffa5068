import type { Context } from "hono";
import type { Db } from "../db/types";
import type { AuditContext } from "../functions/domain/audit";

/** The mount point of the admin page; links, redirects and the cookie path are built from it. */
export const ADMIN_BASE = "/admin";

export type AdminRole = "admin" | "viewer";

/** Who is looking at the page, once signed in. */
export interface Principal {
  /** As written in audit rows: `token:<tokenId>` or `access:<email>`. */
  actor: string;
  role: AdminRole;
  /** How the principal was recognised; decides what "sign out" means. */
  via: "token" | "access";
  /** A human label for the header: the token's name or the Access e-mail. */
  label: string;
}

export interface AccessIdentity {
  actor: string;
  role: "admin" | "viewer" | "submitter";
}

export interface AdminDeps {
  db: Db;
  /** Signs the session cookie and derives CSRF tokens; at least 32 characters. */
  sessionSecret: string;
  /** Four-eyes rule: the approver of an intent may not execute it. */
  requireDistinctExecutor?: boolean;
  /** Cloudflare Access (or another front door) already knows who this is; null when it does not. */
  resolveAccessIdentity?: (request: Request) => Promise<AccessIdentity | null>;
}

export interface LayoutProps {
  title: string;
  /** Which item of the top navigation is current. */
  section?: "jobs" | "intents" | "audit";
}

export type AdminEnv = {
  Variables: {
    requestId: string;
    principal: Principal;
    /** The per-session token every form carries back. */
    csrfToken: string;
    /** `token:<id>` → the token's name, to show people rather than ids. */
    tokenNames: Map<string, string>;
  };
};

export type AdminContext = Context<AdminEnv>;

declare module "hono" {
  interface ContextRenderer {
    // biome-ignore lint/style/useShorthandFunctionType: only an interface merges with Hono's declaration
    (content: string | Promise<string>, props: LayoutProps): Response | Promise<Response>;
  }
}

/** The audit context of a change made from the page: who, which request, from where. */
export function auditContextOf(c: AdminContext): AuditContext {
  return {
    actor: c.get("principal").actor,
    requestId: c.get("requestId"),
    ip: clientIp(c),
    userAgent: c.req.header("user-agent")?.slice(0, 500) ?? null,
  };
}

export function clientIp(c: Context): string | null {
  const cf = c.req.header("cf-connecting-ip");
  if (cf) return cf.trim();
  const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
  if (forwarded) return forwarded;
  // @hono/node-server hands the Node request over as `env.incoming`; Workers have no socket here.
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

/** A path under the admin mount point. */
export const adminPath = (path = ""): string => `${ADMIN_BASE}${path}`;
