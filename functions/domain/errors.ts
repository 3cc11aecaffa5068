/** Every machine-readable error code Regent answers with. The HTTP layer maps each to a status. */
export const ERROR_CODES = [
  "VALIDATION_FAILED",
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "FOUR_EYES_REQUIRED",
  "NOT_FOUND",
  "JOB_NOT_FOUND",
  "INTENT_NOT_FOUND",
  "JOB_NOT_FAILED",
  "INTENT_ALREADY_PENDING",
  "JOB_ALREADY_RETRIED",
  "INTENT_NOT_PENDING",
  "IDEMPOTENCY_KEY_REUSED",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "INTERNAL",
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

/** True when PostgreSQL refused the statement for violating the named unique constraint or index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pg = pgErrorOf(error);
  return pg?.code === "23505" && (pg.constraint === constraint || pg.message.includes(constraint));
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
