import type { JobError, UpstreamAnswer } from "../../db/schema";
import { pgErrorOf } from "../domain/errors";
import type { Outcome } from "./claimer";

const MAX_MESSAGE_CHARS = 2000;

/**
 * The outcome of a job that ended without an output. Both the run of a job and the finisher
 * (when the database refuses an output) make them, with the same limits on the message. A
 * failure of a generator that ran records its version, as an output does: which code failed is
 * what an admin weighs before retrying it unchanged; and what the service it called answered,
 * when the generator says (a GeneratorError bounds it).
 */
export function failure(
  jobId: string,
  code: string,
  message: string,
  generatorVersion?: string,
  upstream?: UpstreamAnswer,
): Outcome {
  return {
    jobId,
    ok: false,
    error: {
      code,
      message: clean(message),
      ...(generatorVersion ? { generatorVersion } : {}),
      ...(upstream ? { upstream } : {}),
    },
  };
}

/** PostgreSQL's jsonb refuses U+0000; messages are for humans and stay short. */
function clean(message: string): JobError["message"] {
  return message.replaceAll("\u0000", "").slice(0, MAX_MESSAGE_CHARS);
}

/** Drizzle's wrapper around a failed statement quotes the statement and its parameters. */
function isQueryWrapper(error: unknown): boolean {
  return error instanceof Error && "query" in error && "params" in error;
}

/**
 * A thrown value as one line of text: generators and drivers throw anything, not only Errors.
 * A database refusal is told by PostgreSQL's own message: the query wrapper's message around it
 * quotes the statement and its parameters (a job's whole output), which no reader needs.
 */
export function describeError(error: unknown): string {
  const pg = pgErrorOf(error);
  if (pg?.message) return `${pg.message} (SQLSTATE ${pg.code})`;
  // A query wrapper without a PostgreSQL error under it (a lost connection, a closed pool):
  // the innermost cause says what happened, without the wrapper's statement and parameters.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isQueryWrapper(current); depth++) {
    current = (current as { cause?: unknown }).cause ?? "the database query failed";
  }
  if (current !== error) return describeError(current);
  if (error instanceof Error) return error.message || error.name;
  try {
    return typeof error === "string" ? error : JSON.stringify(error);
  } catch {
    return String(error);
  }
}
