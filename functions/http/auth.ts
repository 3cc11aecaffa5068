import { sql } from "drizzle-orm";
import type { Context, MiddlewareHandler } from "hono";
import { type JWTVerifyGetKey, errors as jose, jwtVerify } from "jose";
import type { Db } from "../../db/types";
import type { AccessConfig } from "../config/api";
import { recordAuthRefusal, storablePath } from "../domain/auth-refusals";
import { type CallerGuard, type CallerJson, guardedDb, proveCaller } from "../domain/caller-guard";
import { sha256Hex } from "../domain/canonical-json";
import { DomainError, isDomainError } from "../domain/errors";
import { addressKeys } from "../domain/failure-limiter";
import { refusalFrom } from "../domain/refusals";
import { auditContext } from "./caller";
import type { AppEnv } from "./env";
import { tooManyFailedAuthentications } from "./errors";
import {
  type CredentialCheck,
  type DenialReason,
  hasRole,
  type Principal,
  type Resolution,
  type Role,
} from "./principal";

export const ACCESS_HEADER = "cf-access-jwt-assertion";

/**
 * `Authorization: Bearer <token>`: a well-formed one is left to the database, which looks it up
 * by its SHA-256 in the statement that does the request's work (`requireRole`); the secret
 * itself never leaves this process.
 */
export function bearerToken(): CredentialCheck {
  return async (request) => {
    const header = request.headers.get("authorization");
    if (header === null) return { outcome: "absent" };
    const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
    if (!match?.[1]) return { outcome: "denied", via: "token", reason: "malformed" };
    // Longer than any token we issue: no lookup can find it.
    if (match[1].length > 512) return { outcome: "denied", via: "token", reason: "unknown" };
    return {
      outcome: "deferred",
      via: "token",
      credential: { kind: "token", sha256: await sha256Hex(match[1]) },
    };
  };
}

function matches(list: readonly string[], email: string): boolean {
  return list.some((entry) => (entry.startsWith("@") ? email.endsWith(entry) : entry === email));
}

/** The roles configuration grants an Access e-mail address; possibly none. */
export function accessRoles(access: AccessConfig, email: string): Role[] {
  const address = email.toLowerCase();
  const roles: Role[] = [];
  if (matches(access.adminEmails, address)) roles.push("admin");
  if (matches(access.viewerEmails, address)) roles.push("viewer");
  if (matches(access.submitterEmails, address)) roles.push("submitter");
  return roles;
}

function joseDenial(error: unknown): Resolution | undefined {
  const deny = (reason: DenialReason, facts?: Record<string, unknown>): Resolution => ({
    outcome: "denied",
    via: "access",
    reason,
    ...(facts ? { facts } : {}),
  });
  if (!(error instanceof jose.JOSEError)) return undefined;
  switch (error.code) {
    case "ERR_JWT_EXPIRED":
      return deny("expired");
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      return deny("bad claim", { claim: (error as jose.JWTClaimValidationFailed).claim });
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return deny("bad signature");
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return deny("unsupported algorithm");
    case "ERR_JWKS_NO_MATCHING_KEY":
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return deny("unknown key");
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
      return deny("malformed");
    default:
      // The key server failed or answered nonsense: our problem, not the caller's.
      return undefined;
  }
}

/**
 * A Cloudflare Access application token in `Cf-Access-Jwt-Assertion`: RS256 signature by a key
 * of the team's set, `iss` the team domain, `aud` this application, not expired; the e-mail
 * address it names is mapped to roles by configuration.
 */
export function accessJwt(access: AccessConfig, keys: JWTVerifyGetKey): CredentialCheck {
  return async (request) => {
    const token = request.headers.get(ACCESS_HEADER);
    if (token === null) return { outcome: "absent" };
    if (token.length === 0 || token.length > 8192) {
      return { outcome: "denied", via: "access", reason: "malformed" };
    }
    let email: unknown;
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: access.issuer,
        audience: access.audience,
        algorithms: ["RS256"],
        requiredClaims: ["exp"],
      });
      email = payload.email;
    } catch (error) {
      const denial = joseDenial(error);
      if (denial) return denial;
      throw error;
    }
    if (typeof email !== "string" || !/^[^@\s]{1,200}@[^@\s]{1,200}$/.test(email)) {
      return { outcome: "denied", via: "access", reason: "bad claim", facts: { claim: "email" } };
    }
    const address = email.toLowerCase();
    return {
      outcome: "ok",
      principal: {
        actor: `access:${address}`,
        roles: accessRoles(access, address),
        via: "access",
        label: address,
      },
    };
  };
}

/**
 * Tries each way of proving identity in order; the first one present decides. A credential that
 * is present but wrong is a denial, never a reason to try the next one.
 */
export function firstPresent(checks: readonly CredentialCheck[]): CredentialCheck {
  return async (request) => {
    for (const check of checks) {
      const resolution = await check(request);
      if (resolution.outcome !== "absent") return resolution;
    }
    return { outcome: "absent" };
  };
}

const MESSAGES: Record<DenialReason, string> = {
  missing: "authentication required: send Authorization: Bearer <token>",
  malformed: "the credentials are malformed",
  unknown: "the credentials are not valid",
  revoked: "the token was revoked",
  expired: "the credentials have expired",
  "bad signature": "the credentials are not valid",
  "bad claim": "the credentials are not valid for this application",
  "unsupported algorithm": "the credentials are not valid",
  "unknown key": "the credentials are not valid",
  "forbidden role": "your role does not allow this",
};

/**
 * How a refusal that proved no identity is counted: how it was presented and why, and the
 * one fact that tells such refusals apart without letting a stranger mint new rows at will:
 * the failing claim of an Access token (a small fixed set) or the id of a revoked token (as
 * many as admins revoked). `missing`, `token:unknown`, `access:bad claim:aud`, `token:revoked:<id>`.
 */
function refusalReason(resolution: Exclude<Resolution, { outcome: "ok" | "deferred" }>): string {
  if (resolution.outcome === "absent") return "missing";
  const detail = resolution.facts?.claim ?? resolution.facts?.tokenId;
  const parts: string[] = [resolution.via, resolution.reason];
  if (typeof detail === "string") parts.push(detail);
  return parts.join(":");
}

/**
 * A refusal of a known principal: counted per hour, principal and route (`auth_denials`), and
 * the first of each audited as AUTH_DENIED under its own actor, with the reason, the route and
 * the path, never the credential or its hash. One statement. A principal calling what its role
 * may not call cannot grow the insert-only audit log faster than a row per route and hour.
 */
async function recordDenial(
  c: Context<AppEnv>,
  db: Db,
  principal: Principal,
  facts: Record<string, unknown>,
): Promise<void> {
  const ctx = auditContext(c, principal.actor);
  // The method and the matched route's template: ids in the path must not make new rows.
  const route = storablePath(`${c.req.method} ${c.req.routePath || c.req.path}`);
  const data = JSON.stringify({
    reason: "forbidden role",
    method: c.req.method,
    route,
    path: storablePath(c.req.path),
    ...facts,
  });
  await db.execute(sql`
    WITH counted AS (
      INSERT INTO auth_denials (hour, actor, route, count, last_request_id, last_seen_at)
      VALUES (date_trunc('hour', now(), 'UTC'), ${principal.actor}, ${route}, 1, ${c.var.requestId}, now())
      ON CONFLICT (hour, actor, route) DO UPDATE
        SET count = auth_denials.count + 1, last_request_id = excluded.last_request_id,
            last_seen_at = excluded.last_seen_at
      RETURNING (xmax = 0) AS first
    )
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
    SELECT 'AUTH_DENIED', ${principal.actor}, 'request', ${c.var.requestId}, ${data}::jsonb,
           ${ctx.requestId ?? null}, ${ctx.ip ?? null}, ${ctx.userAgent ?? null}
    FROM counted WHERE first`);
}

/** The principal the database proved (regent_caller). */
export function principalOf(caller: CallerJson): Principal {
  return {
    actor: caller.actor,
    roles: caller.roles as Role[],
    via: caller.via,
    label: caller.label,
  };
}

/**
 * Who a deferred credential's statements act as until the database has proved it: never
 * written anywhere, since the database puts the actor it proved into every row it writes.
 */
export const DEFERRED_ACTOR = "pending:credential";

/** Whether `error` is the database's refusal of a caller's credential (regent_caller). */
export function isCallerRefusal(
  error: unknown,
): error is DomainError & { code: "UNAUTHENTICATED" | "FORBIDDEN" } {
  return isDomainError(error) && (error.code === "UNAUTHENTICATED" || error.code === "FORBIDDEN");
}

/**
 * Refuses a request from an address over the failed-authentication limit
 * (functions/domain/auth-limiter.ts) with 429 TOO_MANY_REQUESTS and Retry-After, before its
 * credential is looked at: the right credential too, so that a limited address learns nothing
 * from its guesses, and costs no statement. Every signed-in route runs it first (route.ts).
 * Not counted in `auth_refusals`: that would be a statement per refused request, the very cost
 * the limit removes; the failures that led to it are counted there.
 */
export function refuseLimitedAddress(): MiddlewareHandler<AppEnv> {
  return async function refuseLimitedAddress(c, next) {
    const decision = await c.var.authLimiter.check(addressKeys(c.var.caller.ip));
    if (!decision.allowed) throw tooManyFailedAuthentications(decision.retryAfterSeconds);
    await next();
  };
}

/**
 * Answers a refused request: counted in `auth_refusals` when it proved no identity, and then
 * against the address's failed-authentication limit if it presented a credential (a request
 * without one guesses nothing); audited as AUTH_DENIED when a known principal lacks the role;
 * thrown as the 401 or 403 it is.
 */
async function refuse(
  c: Context<AppEnv>,
  db: Db,
  role: Role,
  refusal:
    | { kind: "unauthenticated"; resolution: Exclude<Resolution, { outcome: "ok" | "deferred" }> }
    | { kind: "forbidden"; principal: Principal },
): Promise<never> {
  if (refusal.kind === "unauthenticated") {
    const { resolution } = refusal;
    const reason = resolution.outcome === "absent" ? "missing" : resolution.reason;
    if (resolution.outcome === "denied") {
      await c.var.authLimiter.recordFailure(addressKeys(c.var.caller.ip));
    }
    await recordAuthRefusal(db, {
      ip: c.var.caller.ip,
      reason: refusalReason(resolution),
      path: c.req.path,
    });
    c.header("WWW-Authenticate", 'Bearer realm="regent"');
    throw new DomainError("UNAUTHENTICATED", MESSAGES[reason]);
  }
  const { principal } = refusal;
  await recordDenial(c, db, principal, {
    requiredRole: role,
    via: principal.via,
    principal: principal.actor,
    roles: principal.roles,
  });
  throw new DomainError("FORBIDDEN", `this needs the ${role} role`, { requiredRole: role });
}

/** The database's refusal of a credential, as `refuse` takes it. */
function refusalOf(error: DomainError): Parameters<typeof refuse>[3] {
  const details = error.details as {
    via?: Principal["via"];
    reason?: DenialReason;
    tokenId?: string;
    caller?: CallerJson;
  };
  if (error.code === "FORBIDDEN" && details.caller) {
    return { kind: "forbidden", principal: principalOf(details.caller) };
  }
  return {
    kind: "unauthenticated",
    resolution: {
      outcome: "denied",
      via: details.via ?? "token",
      reason: details.reason ?? "unknown",
      ...(details.tokenId ? { facts: { tokenId: details.tokenId } } : {}),
    },
  };
}

/**
 * Lets the request through only for a principal holding `role` (admin holds all):
 * no or bad credentials → 401 UNAUTHENTICATED, a known caller without the role → 403 FORBIDDEN.
 * A request that proves no identity is counted in `auth_refusals` (per hour, address and
 * reason: anyone can send those without end); a known principal's refusal is audited.
 *
 * A credential the database must prove (an API token) is proved in the request's own statement:
 * `c.var.db` becomes a guarded handle (functions/domain/caller-guard.ts), and `c.var.principal`
 * is set once the database has answered. A request that sends no statement, or fails before
 * one, has its credential proved by a statement of its own, so that a refusal of the caller
 * always wins over any other answer, as it did when it was checked first.
 */
export function requireRole(role: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const resolution = await c.var.resolvePrincipal(c.req.raw);
    const db = c.var.db;
    if (resolution.outcome === "ok") {
      if (!hasRole(resolution.principal, role)) {
        await refuse(c, db, role, { kind: "forbidden", principal: resolution.principal });
      }
      c.set("principal", resolution.principal);
      return next();
    }
    if (resolution.outcome !== "deferred") {
      return refuse(c, db, role, { kind: "unauthenticated", resolution });
    }
    const guard: CallerGuard = {
      credential: resolution.credential,
      role,
      proven: false,
      resolved: (caller) => c.set("principal", principalOf(caller)),
    };
    c.set("db", guardedDb(db, guard));
    c.set("principal", { actor: DEFERRED_ACTOR, roles: [], via: resolution.via, label: "" });
    // Hono answers a handler's error with onError and keeps it in c.error; next() resolves.
    await next();
    if (isCallerRefusal(c.error)) return refuse(c, db, role, refusalOf(c.error));
    if (!guard.proven) {
      // No statement proved the caller (it answered without one, or failed before one): one
      // statement more, so that a refusal of the caller wins over any other answer.
      try {
        await proveCaller(db, guard);
      } catch (error) {
        const denied = refusalFrom(error) ?? error;
        if (isCallerRefusal(denied)) return refuse(c, db, role, refusalOf(denied));
        throw error;
      }
    }
  };
}
