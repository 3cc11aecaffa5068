/**
 * The policy the database applies (the `regent_policy` row), with its defaults and bounds:
 * the one place they are written. The configuration schemas read the defaults from here, the
 * table's column defaults and checks too, and `migrate` writes the configured values into the
 * row (regent_set_policy), which every unit of work and guard reads.
 */

/** Governed retries a chain (an original job and its retries) gets without an override. */
export const DEFAULT_RETRY_BUDGET = 3;
export const MAX_RETRY_BUDGET = 100;
/** How long an approval stays executable, unless the request says. */
export const DEFAULT_INTENT_TTL_HOURS = 72;
/** The longest an intent may be approved for (`expiresInHours`). */
export const MAX_INTENT_TTL_HOURS = 720;
/** The most jobs one retry batch may hold. */
export const DEFAULT_RETRY_BATCH_MAX = 1000;
export const MAX_RETRY_BATCH_MAX = 10_000;

/** The longest reason an approval or a rejection may give, after trimming (a CHECK holds it). */
export const REASON_TEXT_MAX = 2000;

/** The policy as configuration states it; a field left out keeps the database's value. */
export interface PolicySettings {
  /** RETRY_BUDGET. */
  retryBudget?: number | undefined;
  /** INTENT_TTL_HOURS. */
  intentTtlHours?: number | undefined;
  /** REQUIRE_DISTINCT_EXECUTOR: the approver of an intent or batch may not execute it. */
  requireDistinctExecutor?: boolean | undefined;
  /** RETRY_BATCH_MAX. */
  retryBatchMax?: number | undefined;
}
