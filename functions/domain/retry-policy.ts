/**
 * The settings that govern retries, with their defaults. Kept free of imports so that the
 * configuration schemas (and the deploy check that reuses them) can read the defaults too.
 */

/** Governed retries a chain (an original job and its retries) gets without an override. */
export const DEFAULT_RETRY_BUDGET = 3;
/** How long an approval stays executable. */
export const DEFAULT_INTENT_TTL_HOURS = 72;
/** The longest an intent may be approved for (`expiresInHours`). */
export const MAX_INTENT_TTL_HOURS = 720;
/** The most jobs one retry batch may hold. */
export const DEFAULT_RETRY_BATCH_MAX = 1000;

export interface RetryPolicy {
  /** Four-eyes rule: the admin who executes an intent must not be the one who approved it. */
  requireDistinctExecutor?: boolean | undefined;
  /** RETRY_BUDGET: governed retries per chain. */
  retryBudget?: number | undefined;
  /** INTENT_TTL_HOURS: default lifetime of an intent. */
  intentTtlHours?: number | undefined;
  /** RETRY_BATCH_MAX: the most jobs in one batch. */
  batchMax?: number | undefined;
}

export const budgetOf = (policy: RetryPolicy): number => policy.retryBudget ?? DEFAULT_RETRY_BUDGET;
