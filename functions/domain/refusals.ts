/**
 * The refusals the database's units of work raise, as the DomainErrors the application has
 * always answered with. A `regent_…` function refuses with SQLSTATE RG003, the error code as
 * its message and the details as JSON; the sentence for humans is made here, from the details,
 * so that each refusal reads the same whether the application or the database found it.
 */
import {
  DomainError,
  type DomainError as DomainErrorType,
  ERROR_CODES,
  type ErrorCode,
} from "./errors";

/** The SQLSTATE of a refusal raised by a unit of work (RG001/RG002 are the triggers'). */
export const REFUSAL_SQLSTATE = "RG003";

type Details = Record<string, unknown>;

const MESSAGES: Partial<Record<ErrorCode, (d: Details) => string>> = {
  JOB_NOT_FOUND: (d) => `no job with id ${d.jobId}`,
  JOB_NOT_FAILED: (d) => `job ${d.jobId} is ${d.status}; only a FAILED job can be retried`,
  JOB_NOT_COMPLETED: (d) =>
    `job ${d.jobId} is ${d.status}; only a COMPLETED job can be superseded (a FAILED one is retried)`,
  JOB_ALREADY_RETRIED: (d) =>
    d.kind === "SUPERSEDE"
      ? `job ${d.jobId} already has its successor, job ${d.retryJobId}: supersede that one`
      : `job ${d.jobId} was already retried by job ${d.retryJobId}`,
  INTENT_ALREADY_PENDING: (d) => `job ${d.jobId} already has a PENDING retry intent`,
  RETRY_BUDGET_EXHAUSTED: (d) =>
    `job ${d.jobId} is retry ${d.depth} of its chain, which has used its budget of ${d.budget} retries; approve past it with overrideBudget and reason code OTHER`,
  INTENT_NOT_FOUND: (d) => `no retry intent with id ${d.intentId}`,
  INTENT_NOT_PENDING: (d) => `retry intent ${d.intentId} is ${d.status}, not PENDING`,
  INTENT_EXPIRED: (d) => `retry intent ${d.intentId} expired at ${d.expiresAt}; approve a new one`,
  FOUR_EYES_REQUIRED: (d) =>
    `the admin who approved this ${d.batchId === undefined ? "intent" : "batch"} cannot also execute it`,
  BATCH_NOT_FOUND: (d) => `no retry batch with id ${d.batchId}`,
  BATCH_EMPTY: () => "the filter matches no job that can be retried",
  BATCH_TOO_LARGE: (d) =>
    `the filter matches ${d.atLeast ? `more than ${d.max}` : d.count} jobs; a batch holds at most ${d.max}: narrow the filter (generator, error code, failure window)`,
  BATCH_PREVIEW_STALE: (d) =>
    d.expiredAt
      ? `the preview expired at ${d.expiredAt} (a preview holds for an hour): preview again and approve what you see`
      : Array.isArray(d.outside)
        ? `jobIds names jobs the preview does not hold (${d.outside.join(", ")}): choose among the jobs the preview lists`
        : `the jobs this filter matches changed since the preview (now ${d.count}), or the token is not this preview's: preview again and approve what you see`,
  IDEMPOTENCY_KEY_REUSED: () => "this Idempotency-Key was already used for a different request",
  VALIDATION_FAILED: (d) =>
    d.field === "input"
      ? `a corrected input needs reason code BAD_INPUT, IMPROVED_PROMPT or OTHER, not ${d.reasonCode}: ${d.reasonCode} says nothing in the job was wrong`
      : d.field === "reasonCode" && d.kind === "SUPERSEDE"
        ? "superseding a result needs reason code BAD_INPUT, IMPROVED_PROMPT or OTHER: what changed"
        : d.field === "reasonText"
          ? `reasonText must be ${d.min} to ${d.max} characters, not only spaces`
          : d.field === "jobIds"
            ? "jobIds must be a list of job ids, chosen from the preview"
            : d.field === "overrideBudget"
              ? "overrideBudget needs reason code OTHER: going past the retry budget is an exception, explained in the reason text"
              : // The database's policy bounds a lifetime; the bounds come with the refusal.
                `${d.field} must be a whole number from ${d.min} to ${d.max}`,
  NOT_FOUND: (d) => `no api token with id ${d.tokenId}`,
  UNKNOWN_GENERATOR: (d) =>
    `no generator named "${d.generator}" is in the catalog: GET /api/admin/generators lists them`,
  GENERATOR_NOT_FOUND: (d) => `no generator named "${d.generator}" is in the catalog`,
  GENERATOR_ALREADY_PAUSED: (d) =>
    `generator ${d.generator} is paused already (by ${d.pausedBy} at ${d.pausedAt})`,
  GENERATOR_NOT_PAUSED: (d) => `generator ${d.generator} is not paused`,
};

/** The refusal `code` with `details`, worded as everywhere else. */
export function refusal(code: ErrorCode, details: Details): DomainErrorType {
  const message = MESSAGES[code]?.(details) ?? code;
  return new DomainError(code, message, details);
}

/** A unit's refusal as it was raised: its code and details, whether or not callers see it. */
export interface RaisedRefusal {
  code: string;
  details: Details;
}

/**
 * The refusal a unit of work raised, if `error` is one (looking through the driver's and
 * Drizzle's wrapping); undefined for any other error. Some refusals are for the application
 * only (GENERATOR_SCHEMA_CHANGED: read the catalog again and ask again) and never reach a caller.
 */
export function raisedRefusal(error: unknown): RaisedRefusal | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; detail?: unknown };
    if (candidate.code === REFUSAL_SQLSTATE) {
      const details =
        typeof candidate.detail === "string" && candidate.detail !== ""
          ? (JSON.parse(candidate.detail) as Details)
          : {};
      return { code: String(candidate.message), details };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The DomainError a unit of work refused with, if `error` is such a refusal of a code callers
 * are answered with; undefined for any other error.
 */
export function refusalFrom(error: unknown): DomainErrorType | undefined {
  const raised = raisedRefusal(error);
  if (!raised || !(ERROR_CODES as readonly string[]).includes(raised.code)) return undefined;
  return refusal(raised.code as ErrorCode, raised.details);
}
