/**
 * API tokens: hashed bearer secrets with a role. The database writes them only through
 * `regent_create_api_token` and `regent_revoke_api_token`, each with its audit event in the
 * same statement; the plain secret exists only here, once, and never reaches the database.
 */
import { isNull } from "drizzle-orm";
import { type ApiToken, type ApiTokenRole, apiTokenRole, apiTokens } from "../../db/schema";
import type { Executor } from "../../db/types";
import type { AuditContext } from "./audit";
import { sha256Hex } from "./canonical-json";
import { DomainError } from "./errors";
import { runUnit } from "./units";

export const TOKEN_ROLES = apiTokenRole.enumValues;
const TOKEN_PREFIX = "rgt_";

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return TOKEN_PREFIX + btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export type PublicApiToken = Omit<ApiToken, "tokenSha256">;

function toPublic({ tokenSha256: _hash, ...rest }: ApiToken): PublicApiToken {
  return rest;
}

/** A token's public row as the database's functions answer it (snake_case, no hash). */
type TokenJson = {
  id: string;
  name: string;
  role: ApiTokenRole;
  created_at: string;
  revoked_at: string | null;
};

function fromJson(row: TokenJson): PublicApiToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
  };
}

/**
 * Creates a token for `role`, with API_TOKEN_CREATED, in one statement; the returned `token` is
 * the only time the secret exists in clear.
 */
export async function createApiToken(
  db: Executor,
  ctx: AuditContext,
  request: { name: string; role: ApiTokenRole },
): Promise<{ token: string; record: PublicApiToken }> {
  const name = request.name.trim();
  if (name.length === 0 || name.length > 100) {
    throw new DomainError("VALIDATION_FAILED", "name must be 1 to 100 characters", {
      field: "name",
    });
  }
  if (!TOKEN_ROLES.includes(request.role)) {
    throw new DomainError("VALIDATION_FAILED", `role must be one of ${TOKEN_ROLES.join(", ")}`, {
      field: "role",
    });
  }
  const token = randomToken();
  const row = await runUnit<TokenJson>(db, "regent_create_api_token", ctx, {
    name,
    role: request.role,
    tokenSha256: await sha256Hex(token),
  });
  return { token, record: fromJson(row) };
}

/**
 * Ensures a token with exactly this secret exists with the admin role (REGENT_BOOTSTRAP_ADMIN_TOKEN).
 * Does nothing if it exists already, revoked or not: a revoked bootstrap token stays revoked.
 */
export async function ensureBootstrapAdminToken(db: Executor, token: string): Promise<void> {
  if (token.trim().length < 16) {
    throw new Error("REGENT_BOOTSTRAP_ADMIN_TOKEN must be at least 16 characters");
  }
  await runUnit(
    db,
    "regent_create_api_token",
    { actor: "system:bootstrap" },
    { name: "bootstrap-admin", role: "admin", tokenSha256: await sha256Hex(token), ifAbsent: true },
  );
}

/**
 * Revokes a token for good, with API_TOKEN_REVOKED, in one statement; one revoked already is
 * answered as it is. NOT_FOUND when there is none.
 */
export async function revokeApiToken(
  db: Executor,
  ctx: AuditContext,
  id: string,
): Promise<PublicApiToken> {
  return fromJson(await runUnit<TokenJson>(db, "regent_revoke_api_token", ctx, { tokenId: id }));
}

export async function listApiTokens(db: Executor, options: { includeRevoked?: boolean } = {}) {
  const rows = await db
    .select()
    .from(apiTokens)
    .where(options.includeRevoked ? undefined : isNull(apiTokens.revokedAt))
    .orderBy(apiTokens.createdAt);
  return rows.map(toPublic);
}
