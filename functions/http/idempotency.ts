import type { Context } from "hono";
import { canonicalJson, sha256Hex } from "../domain/canonical-json";
import { IDEMPOTENCY_KEY_TTL_HOURS } from "../domain/idempotency-keys";
import type { IdempotencyKeyUse, Once } from "../domain/units";
import type { AppEnv } from "./env";

export const REPLAYED_HEADER = "Idempotent-Replayed";

/**
 * Runs a creation at most once per (principal, Idempotency-Key).
 *
 * Without a key it simply runs. With one, the creation's own statement handles the key (the
 * database's units of work, db/migrations "units of work"): a stored first response for the
 * same method, path and body is replayed (with `Idempotent-Replayed: true`); for anything else
 * the key is refused with 409 IDEMPOTENCY_KEY_REUSED. A new key is stored in the same statement
 * as the creation, so a key exists exactly when its creation committed. Concurrent twins race
 * on the primary key: the loser's creation is rolled back and it replays the winner's response.
 * Refusals (4xx) are not stored: repeating the request asks again. A key expires 24 hours after
 * it was stored: then the request runs as new, and the expired row is replaced in the same
 * statement, so the key is there exactly when the new creation committed.
 *
 * `create` gets the key to hand to the domain (undefined without one); `present` turns what it
 * created into the response body. The database stores the creation's rows with the key, and a
 * replay presents them the same way, so it answers the first response's body. The key's
 * principal is the caller the database proved (regent_authorized), whatever is named here before
 * it has.
 */
export async function idempotent<D, T>(
  c: Context<AppEnv>,
  options: { key: string | undefined; body: unknown; status: number },
  create: (key: IdempotencyKeyUse | undefined) => Promise<Once<D>>,
  present: (created: D) => T,
): Promise<T> {
  const key: IdempotencyKeyUse | undefined =
    options.key === undefined
      ? undefined
      : {
          principal: c.var.principal.actor,
          key: options.key,
          method: c.req.method,
          path: c.req.path,
          requestSha256: await sha256Hex(canonicalJson(options.body)),
          status: options.status,
          ttlHours: IDEMPOTENCY_KEY_TTL_HOURS,
        };
  const outcome = await create(key);
  if (outcome.replayed) c.header(REPLAYED_HEADER, "true");
  return "created" in outcome ? present(outcome.created) : (outcome.body as T);
}
