import { and, eq, getTableColumns, sql } from "drizzle-orm";
import type { Context } from "hono";
import { idempotencyKeys } from "../../db/schema";
import type { Executor, Tx } from "../../db/types";
import { canonicalJson, sha256Hex } from "../domain/canonical-json";
import { DomainError } from "../domain/errors";
import { deleteExpiredIdempotencyKey, idempotencyCutoff } from "../domain/idempotency-keys";
import type { AppEnv } from "./env";

export const REPLAYED_HEADER = "Idempotent-Replayed";

type StoredKey = typeof idempotencyKeys.$inferSelect & {
  /** Older than the keys' lifetime, by the database's clock: not to be replayed. */
  expired: boolean;
};

async function findKey(
  db: Executor,
  principal: string,
  key: string,
): Promise<StoredKey | undefined> {
  const [row] = await db
    .select({
      ...getTableColumns(idempotencyKeys),
      expired: sql<boolean>`${idempotencyKeys.createdAt} <= ${idempotencyCutoff}`,
    })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key)));
  return row;
}

/**
 * Runs `create` at most once per (principal, Idempotency-Key).
 *
 * Without a key it simply runs. With one, a stored first response for the same method, path and
 * body is replayed (with `Idempotent-Replayed: true`); for anything else the key is refused with
 * 409 IDEMPOTENCY_KEY_REUSED. A new key is stored in the same transaction as the creation, so a
 * key exists exactly when its creation committed. Concurrent twins race on the primary key: the
 * loser's transaction rolls back (its creation with it) and it replays the winner's response.
 * Refusals (4xx) are not stored: repeating the request asks again. A key expires 24 hours after
 * it was stored: then the request runs as new, and the expired row is replaced in the same
 * transaction, so the key is there exactly when the new creation committed.
 */
export async function idempotent<T>(
  c: Context<AppEnv>,
  options: { key: string | undefined; body: unknown; status: number },
  create: (tx: Executor) => Promise<T>,
): Promise<T> {
  const db = c.var.db;
  if (options.key === undefined) return create(db);
  const principal = c.var.principal.actor;
  const key = options.key;
  const method = c.req.method;
  const path = c.req.path;
  const requestSha256 = await sha256Hex(canonicalJson(options.body));

  const replay = (stored: StoredKey): T => {
    if (
      stored.method !== method ||
      stored.path !== path ||
      stored.requestSha256 !== requestSha256
    ) {
      throw new DomainError(
        "IDEMPOTENCY_KEY_REUSED",
        "this Idempotency-Key was already used for a different request",
        { originalMethod: stored.method, originalPath: stored.path },
      );
    }
    c.header(REPLAYED_HEADER, "true");
    return stored.responseBody as T;
  };

  const earlier = await findKey(db, principal, key);
  if (earlier && !earlier.expired) return replay(earlier);
  try {
    // The creation and its key are one unit of work: the domain steps join this transaction.
    return await db.transaction(async (tx: Tx) => {
      if (earlier) await deleteExpiredIdempotencyKey(tx, principal, key);
      const result = await create(tx);
      await tx.insert(idempotencyKeys).values({
        principal,
        key,
        method,
        path,
        requestSha256,
        responseStatus: options.status,
        responseBody: result,
      });
      return result;
    });
  } catch (error) {
    const twin = await findKey(db, principal, key);
    if (twin && !twin.expired) return replay(twin);
    throw error;
  }
}
