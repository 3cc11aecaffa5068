/**
 * Admin page sessions, kept on the server: the cookie names a row of `admin_sessions`, so that
 * signing out ends the session for every copy of the cookie, not only the browser's own. A
 * session starts and ends audited, in the same transaction; a row only ever gains `ended_at`
 * (a trigger refuses anything else).
 */
import { sql } from "drizzle-orm";
import type { ApiTokenRole } from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import type { AuditContext } from "./audit";
import { sha256Hex } from "./canonical-json";
import { runUnit } from "./units";

/** A session that is live now, with the token it stands for. */
export interface ActiveAdminSession {
  id: string;
  tokenId: string;
  tokenName: string;
  role: ApiTokenRole;
  expiresAt: Date;
}

/** 24 random bytes, base64url: unguessable, and safe in a cookie. */
function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The shape `newSessionId` makes; anything else is not looked up. */
export const ADMIN_SESSION_ID = /^[A-Za-z0-9_-]{32}$/;

/** A sign-in the database refused: why, and the token it named when it knew one. */
export interface SignInRefusal {
  refused: "unknown" | "revoked" | "forbidden role";
  tokenId?: string;
}

/**
 * Signs in with a presented API token, in one statement (the database's
 * `regent_start_admin_session`): the token is looked up by its hash and, when it is a live admin
 * or viewer token, a session starts (for a working day) with ADMIN_SIGNED_IN (never the token's
 * secret). Returns the session, or why the token could not sign in.
 */
export async function signIn(
  db: Executor,
  ctx: Omit<AuditContext, "actor">,
  presented: string,
): Promise<{ id: string; expiresAt: Date; tokenId: string } | SignInRefusal> {
  if (presented.length === 0 || presented.length > 512) return { refused: "unknown" };
  const row = await runUnit<{ id: string; expiresAt: string; tokenId: string } | SignInRefusal>(
    db,
    "regent_start_admin_session",
    { ...ctx, actor: "" },
    {
      sessionId: newSessionId(),
      tokenSha256: await sha256Hex(presented),
    },
  );
  return "refused" in row ? row : { ...row, expiresAt: new Date(row.expiresAt) };
}

/**
 * The session `id` names, if it is live: not ended, not expired, and its token not revoked.
 * One query, on every request of a signed-in page, so that any of the three signs it out at once.
 */
export async function findActiveAdminSession(
  db: Executor,
  id: string,
): Promise<ActiveAdminSession | undefined> {
  if (!ADMIN_SESSION_ID.test(id)) return undefined;
  const result = await db.execute(sql`
    SELECT s.id, s.token_id AS "tokenId", t.name AS "tokenName", t.role, s.expires_at AS "expiresAt"
    FROM admin_sessions s JOIN api_tokens t ON t.id = s.token_id
    WHERE s.id = ${id} AND s.ended_at IS NULL AND s.expires_at > now() AND t.revoked_at IS NULL`);
  const [row] = rowsOf<Omit<ActiveAdminSession, "expiresAt"> & { expiresAt: Date | string }>(
    result,
  );
  return row ? { ...row, expiresAt: new Date(row.expiresAt) } : undefined;
}

/**
 * Ends a session and audits ADMIN_SIGNED_OUT, in one statement (the database's
 * `regent_end_admin_session`); does nothing if it has ended already. Returns whether this call
 * ended it.
 */
export async function endAdminSession(
  db: Executor,
  ctx: AuditContext,
  id: string,
): Promise<boolean> {
  return runUnit<boolean>(db, "regent_end_admin_session", ctx, { sessionId: id });
}
