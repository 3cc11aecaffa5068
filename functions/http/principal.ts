import type { ApiTokenRole } from "../../db/schema";
import type { Credential } from "../domain/caller-guard";

export type Role = ApiTokenRole;

/**
 * Who is calling, whatever proved it (an API token, a Cloudflare Access identity, a session).
 * `actor` is what audit events and `created_by` record: `token:<id>` or `access:<email>`.
 */
export interface Principal {
  actor: string;
  roles: readonly Role[];
  /** How the caller proved it; for the audit trail, never for decisions. */
  via: "token" | "access" | "session";
  /** A human label: the token's name or the e-mail address. */
  label: string;
}

/** Admin holds every role; otherwise a principal has exactly the roles it was given. */
export function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.includes("admin") || principal.roles.includes(role);
}

/** Why a request could not be tied to a principal. Recorded in AUTH_DENIED, never the secret. */
export type DenialReason =
  | "missing"
  | "malformed"
  | "unknown"
  | "revoked"
  | "expired"
  | "bad signature"
  | "bad claim"
  | "unsupported algorithm"
  | "unknown key"
  | "forbidden role";

export type Resolution =
  /** This kind of credential is not present; let the next one try. */
  | { outcome: "absent" }
  | { outcome: "ok"; principal: Principal }
  /** Present and well-formed; the database proves it in the request's own statement. */
  | { outcome: "deferred"; via: Principal["via"]; credential: Credential }
  | {
      outcome: "denied";
      via: Principal["via"];
      reason: DenialReason;
      /** Facts safe to audit (a token id, the failing claim), never the credential itself. */
      facts?: Record<string, unknown>;
    };

/** One way of proving identity (bearer token, Access JWT, session cookie…). */
export type CredentialCheck = (request: Request) => Promise<Resolution>;
