import { eq, isNull, sql } from "drizzle-orm";
import { type ApiToken, type ApiTokenRole, apiTokenRole, apiTokens } from "../../db/schema";
import type { Db, Executor } from "../../db/types";
import { type AuditContext, recordAudit } from "./audit";
import { sha256Hex } from "./canonical-json";
import { DomainError } from "./errors";
import { newId } from "./ids";

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

/** Creates a token for `role`; the returned `token` is the only time the secret exists in clear. */
export async function createApiToken(
  db: Db,
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
  const record = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({ id: newId(), name, role: request.role, tokenSha256: await sha256Hex(token) })
      .returning();
    if (!row) throw new Error("insert returned no token");
    await recordAudit(tx, ctx, [
      {
        type: "API_TOKEN_CREATED",
        subjectType: "api_token",
        subjectId: row.id,
        data: { name, role: row.role },
      },
    ]);
    return row;
  });
  return { token, record: toPublic(record) };
}

/**
 * Ensures a token with exactly this secret exists with the admin role (REGENT_BOOTSTRAP_ADMIN_TOKEN).
 * Does nothing if it exists already, revoked or not: a revoked bootstrap token stays revoked.
 */
export async function ensureBootstrapAdminToken(db: Db, token: string): Promise<void> {
  if (token.trim().length < 16) {
    throw new Error("REGENT_BOOTSTRAP_ADMIN_TOKEN must be at least 16 characters");
  }
  const hash = await sha256Hex(token);
  await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apiTokens)
      .values({ id: newId(), name: "bootstrap-admin", role: "admin", tokenSha256: hash })
      .onConflictDoNothing({ target: apiTokens.tokenSha256 })
      .returning();
    if (row) {
      await recordAudit(tx, { actor: "system:bootstrap" }, [
        {
          type: "API_TOKEN_CREATED",
          subjectType: "api_token",
          subjectId: row.id,
          data: { name: row.name, role: row.role },
        },
      ]);
    }
  });
}

export type TokenCheck =
  | { ok: true; token: PublicApiToken }
  | { ok: false; reason: "unknown" | "revoked"; tokenId?: string };

/** Looks a presented secret up by its hash. */
export async function verifyApiToken(db: Executor, presented: string): Promise<TokenCheck> {
  if (presented.length === 0 || presented.length > 512) return { ok: false, reason: "unknown" };
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(eq(apiTokens.tokenSha256, await sha256Hex(presented)));
  if (!row) return { ok: false, reason: "unknown" };
  if (row.revokedAt) return { ok: false, reason: "revoked", tokenId: row.id };
  return { ok: true, token: toPublic(row) };
}

/** A token by its id (never its secret), revoked or not: sessions re-check it on every request. */
export async function findApiToken(db: Executor, id: string): Promise<PublicApiToken | undefined> {
  const [row] = await db.select().from(apiTokens).where(eq(apiTokens.id, id));
  return row ? toPublic(row) : undefined;
}

/** Revokes a token for good. */
export async function revokeApiToken(
  db: Db,
  ctx: AuditContext,
  id: string,
): Promise<PublicApiToken> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(apiTokens)
      .set({ revokedAt: sql`now()` })
      .where(sql`${apiTokens.id} = ${id} AND ${apiTokens.revokedAt} IS NULL`)
      .returning();
    if (!row) {
      const [existing] = await tx.select().from(apiTokens).where(eq(apiTokens.id, id));
      if (!existing)
        throw new DomainError("NOT_FOUND", `no api token with id ${id}`, { tokenId: id });
      return toPublic(existing);
    }
    await recordAudit(tx, ctx, [
      {
        type: "API_TOKEN_REVOKED",
        subjectType: "api_token",
        subjectId: row.id,
        data: { name: row.name },
      },
    ]);
    return toPublic(row);
  });
}

export async function listApiTokens(db: Executor, options: { includeRevoked?: boolean } = {}) {
  const rows = await db
    .select()
    .from(apiTokens)
    .where(options.includeRevoked ? undefined : isNull(apiTokens.revokedAt))
    .orderBy(apiTokens.createdAt);
  return rows.map(toPublic);
}
