/** Every machine-readable error code Regent answers with. The HTTP layer maps each to a status. */
export const ERROR_CODES = [
  "VALIDATION_FAILED",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "FOUR_EYES_REQUIRED",
  "NOT_FOUND",
  "JOB_NOT_FOUND",
  "INTENT_NOT_FOUND",
  "BATCH_NOT_FOUND",
  "GENERATOR_NOT_FOUND",
  "UNKNOWN_GENERATOR",
  "JOB_NOT_FAILED",
  "JOB_NOT_COMPLETED",
  "INTENT_ALREADY_PENDING",
  "JOB_ALREADY_RETRIED",
  "INTENT_NOT_PENDING",
  "INTENT_EXPIRED",
  "RETRY_BUDGET_EXHAUSTED",
  "BATCH_PREVIEW_STALE",
  "BATCH_TOO_LARGE",
  "BATCH_EMPTY",
  "IDEMPOTENCY_KEY_REUSED",
  "GENERATOR_ALREADY_PAUSED",
  "GENERATOR_NOT_PAUSED",
  "METHOD_NOT_ALLOWED",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "TOO_MANY_REQUESTS",
  "INTERNAL",
  "SERVICE_UNAVAILABLE",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A refusal the caller can act on: a code, a sentence for humans, and facts for programs. */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isDomainError(error: unknown, code?: ErrorCode): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}

/** The PostgreSQL error behind a driver or Drizzle error, if there is one. */
export interface PgErrorInfo {
  code: string;
  constraint?: string | undefined;
  message: string;
}

export function pgErrorOf(error: unknown): PgErrorInfo | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const candidate = current as { code?: unknown; constraint?: unknown; message?: unknown };
    if (typeof candidate.code === "string" && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return {
        code: candidate.code,
        constraint: typeof candidate.constraint === "string" ? candidate.constraint : undefined,
        message: String(candidate.message ?? ""),
      };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * PostgreSQL refuses text it cannot hold (a NUL character, an invalid UTF-8 sequence): such a
 * value came from the caller, so the refusal is the caller's bad input, never a server error.
 * Returns that refusal as VALIDATION_FAILED, or undefined for any other error.
 */
export function invalidTextRefusal(error: unknown): DomainError | undefined {
  const pg = pgErrorOf(error);
  if (pg?.code !== "22021" && pg?.code !== "22P05") return undefined;
  return new DomainError(
    "VALIDATION_FAILED",
    "the request contains text that cannot be stored or searched (a NUL character or invalid UTF-8)",
  );
}

/**
 * Seconds a client is told to wait (`Retry-After`) when the database is unavailable: a
 * restart or failover takes a few seconds, a single dropped connection none.
 */
export const RETRY_AFTER_SECONDS = 5;

/**
 * SQLSTATEs that mean the connection, not the statement, failed: class 08 (connection
 * exception) and 53300 (too many connections), and the 57P0x family of a server that is
 * shutting down, crashed or not accepting connections yet (57P01 is also what
 * pg_terminate_backend sends).
 */
const CONNECTION_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;

/** Socket errors of a database that cannot be reached, or that went away mid-exchange. */
const CONNECTION_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * node-postgres (and the Neon driver, which shares its client) reports a lost connection
 * without a code: the socket ended, the client is dead for any further query (which is what a
 * transaction's ROLLBACK meets, hiding the first error), or no connection came in time. A
 * pool or client that Regent itself ended is not among them: that is a bug, answered 500.
 */
const CONNECTION_MESSAGE =
  /^(Connection terminated|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect)/;

/**
 * True when the error says the database connection was lost or could not be had, rather than
 * that the database refused the statement. Such a failure says nothing about the request: its
 * transaction went with its connection, and the same request may succeed on a fresh one.
 * Looks through Drizzle's wrapping (`cause`) and Node's AggregateError of a refused connect.
 */
export function isConnectionFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 16) {
    const current = pending.shift();
    if (!current || typeof current !== "object" || seen.has(current)) continue;
    seen.add(current);
    const { code, message, cause, errors } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (
      typeof code === "string" &&
      (CONNECTION_SQLSTATE.test(code) || CONNECTION_ERRNO.has(code))
    ) {
      return true;
    }
    if (typeof message === "string" && CONNECTION_MESSAGE.test(message)) return true;
    pending.push(cause);
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return false;
}

/**
 * A lost or unobtainable database connection as the refusal the caller sees:
 * SERVICE_UNAVAILABLE, to be tried again later. Undefined for any other error.
 */
export function unavailableRefusal(error: unknown): DomainError | undefined {
  if (!isConnectionFailure(error)) return undefined;
  return new DomainError(
    "SERVICE_UNAVAILABLE",
    "the database is unavailable; try again shortly (with the same Idempotency-Key, if you sent one)",
    { retryAfterSeconds: RETRY_AFTER_SECONDS },
  );
}
