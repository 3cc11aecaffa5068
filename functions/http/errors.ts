import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import {
  DomainError,
  type ErrorCode,
  invalidTextRefusal,
  pgErrorOf,
  RETRY_AFTER_SECONDS,
  unavailableRefusal,
} from "../domain/errors";

/**
 * The one place an error code becomes an HTTP status. Typed over every code, so a new code
 * cannot be added to the domain without deciding its status here.
 */
export const STATUS_BY_CODE: Record<ErrorCode, ContentfulStatusCode> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  FOUR_EYES_REQUIRED: 403,
  NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  INTENT_NOT_FOUND: 404,
  BATCH_NOT_FOUND: 404,
  GENERATOR_NOT_FOUND: 404,
  UNKNOWN_GENERATOR: 400,
  JOB_NOT_FAILED: 409,
  JOB_NOT_COMPLETED: 409,
  INTENT_ALREADY_PENDING: 409,
  JOB_ALREADY_RETRIED: 409,
  INTENT_NOT_PENDING: 409,
  INTENT_EXPIRED: 409,
  RETRY_BUDGET_EXHAUSTED: 409,
  BATCH_PREVIEW_STALE: 409,
  BATCH_TOO_LARGE: 409,
  BATCH_EMPTY: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  GENERATOR_ALREADY_PAUSED: 409,
  GENERATOR_NOT_PAUSED: 409,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
};

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: Record<string, unknown>;
    requestId: string;
  };
}

/** The JSON error response for a domain error; every error leaves through here. */
export function errorResponse(c: Context, error: DomainError): Response {
  const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      requestId,
    },
  };
  c.header("X-Request-Id", requestId);
  if (error.code === "SERVICE_UNAVAILABLE") c.header("Retry-After", String(RETRY_AFTER_SECONDS));
  if (error.code === "TOO_MANY_REQUESTS") {
    c.header("Retry-After", String(error.details?.retryAfterSeconds));
  }
  return c.json(body, STATUS_BY_CODE[error.code]);
}

/** A zod failure as VALIDATION_FAILED: where and what, without the offending values. */
export function validationError(target: string, error: ZodError): DomainError {
  const issues = error.issues.slice(0, 20).map((issue) => ({
    path: issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)),
    code: issue.code,
    message: issue.message.length > 300 ? `${issue.message.slice(0, 300)}…` : issue.message,
  }));
  const where = target === "json" ? "body" : target;
  return new DomainError("VALIDATION_FAILED", `the request ${where} is not valid`, {
    target: where,
    issues,
  });
}

/** The `defaultHook` of every route: a failed validation goes to `onError` like any other error. */
export function validationHook(
  result: { success: true } | { success: false; error: ZodError; target: string },
): void {
  if (!result.success) throw validationError(result.target, result.error);
}

function fromHttpException(error: HTTPException): DomainError {
  switch (error.status) {
    case 400:
      return new DomainError("VALIDATION_FAILED", sanitise(error.message) || "bad request");
    case 401:
      return new DomainError("UNAUTHENTICATED", "authentication required");
    case 403:
      return new DomainError("FORBIDDEN", "not allowed");
    case 404:
      return new DomainError("NOT_FOUND", "no such resource");
    case 413:
      return payloadTooLarge();
    case 415:
      return unsupportedMediaType();
    default:
      return new DomainError("INTERNAL", "internal error");
  }
}

/** Hono's own messages may quote a header the client sent; keep them short and printable. */
function sanitise(message: string): string {
  return message.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);
}

export const payloadTooLarge = () =>
  new DomainError("PAYLOAD_TOO_LARGE", "the request body is too large");

export const unsupportedMediaType = () =>
  new DomainError("UNSUPPORTED_MEDIA_TYPE", "the request body must be application/json");

/** A request from an address over the failed-authentication limit, told how long to wait. */
export const tooManyFailedAuthentications = (retryAfterSeconds: number) =>
  new DomainError(
    "TOO_MANY_REQUESTS",
    `too many failed authentications from this address; try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? "" : "s"}`,
    { retryAfterSeconds },
  );

/**
 * Maps anything thrown to the error body. Unexpected errors are logged with the request id and
 * answered with a bare INTERNAL: no stack, no SQL, no driver message reaches the client.
 */
export const onError: ErrorHandler = (error, c) => {
  if (error instanceof DomainError) return errorResponse(c, error);
  if (error instanceof HTTPException) return errorResponse(c, fromHttpException(error));
  const badText = invalidTextRefusal(error);
  if (badText) return errorResponse(c, badText);
  const unavailable = unavailableRefusal(error);
  if (unavailable) {
    // Not a bug to chase but an outage to notice: one short line, without the statement.
    console.error(
      JSON.stringify({
        level: "warn",
        event: "database.unavailable",
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        error: rootMessage(error),
      }),
    );
    return errorResponse(c, unavailable);
  }
  console.error(internalErrorLog(c, error));
  return errorResponse(c, new DomainError("INTERNAL", "internal error"));
};

/**
 * The log line of an unexpected error: where (request id, method, and the path without its
 * query, which may carry a secret) and what (the classes along the cause chain, a code,
 * PostgreSQL's SQLSTATE and its own message). Never the error's stack or message as thrown: a
 * query wrapper's message ("Failed query: … params: …") quotes the statement's parameters, a
 * bearer token's SHA-256 among them, and a stack begins with that message. The frames go along
 * without it; they name code, never values.
 */
function internalErrorLog(c: Context, error: unknown): string {
  const pg = pgErrorOf(error);
  const chain = causeChain(error);
  const code = chain
    .map((e) => (e as { code?: unknown }).code)
    .find((x): x is string => typeof x === "string" && /^[\w-]{1,40}$/.test(x));
  const message = pg?.message ?? chain.find(isPlainError)?.message;
  const frames = stackFrames(error);
  return JSON.stringify({
    level: "error",
    requestId: c.get("requestId"),
    method: c.req.method,
    path: c.req.path.slice(0, 300),
    error: chain.map(className).join(" < "),
    ...(code ? { code } : {}),
    ...(pg ? { sqlstate: pg.code } : {}),
    ...(message ? { message: message.slice(0, 500) } : {}),
    ...(frames.length > 0 ? { frames } : {}),
  });
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 5; ) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** An Error whose message is its own words, not a wrapper quoting a query and its parameters. */
function isPlainError(error: unknown): error is Error {
  return error instanceof Error && !("params" in error) && !("query" in error);
}

function className(error: unknown): string {
  if (error instanceof Error) {
    const ctor = error.constructor?.name;
    return ctor && ctor !== "Error" ? ctor : error.name;
  }
  return typeof error;
}

/** The "at …" lines of the stack that follow its message, so no line of the message slips in. */
function stackFrames(error: unknown): string[] {
  if (!(error instanceof Error) || typeof error.stack !== "string") return [];
  const at = error.message ? error.stack.indexOf(error.message) : 0;
  if (at < 0) return [];
  return error.stack
    .slice(at + error.message.length)
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 10)
    .map((line) => line.trim());
}

/** The innermost message of a wrapped error: the driver's words, not Drizzle's "Failed query: …". */
function rootMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 5; depth++) {
    const cause = (current as { cause?: unknown } | undefined)?.cause;
    if (!cause) break;
    current = cause;
  }
  return (current instanceof Error ? current.message : String(current)).slice(0, 300);
}

export const notFound: NotFoundHandler = (c) =>
  errorResponse(c, new DomainError("NOT_FOUND", "no such resource"));

/**
 * The not-found answer of a server whose routes are `routes`: a path the server knows under other
 * methods is 405 METHOD_NOT_ALLOWED with `Allow` naming them (HEAD wherever GET is), anything
 * else 404 NOT_FOUND. Paths under `exceptUnder` keep their own answers.
 */
export function notFoundOrNotAllowed(
  routes: () => readonly { method: string; path: string }[],
  exceptUnder: string,
): NotFoundHandler {
  let known: { pattern: RegExp; methods: Set<string> }[] | undefined;
  const index = () => {
    const byPath = new Map<string, Set<string>>();
    for (const { method, path } of routes()) {
      if (method === "ALL" || path.includes("*") || path.startsWith(exceptUnder)) continue;
      const methods = byPath.get(path) ?? new Set<string>();
      methods.add(method);
      if (method === "GET") methods.add("HEAD");
      byPath.set(path, methods);
    }
    return [...byPath].map(([path, methods]) => ({
      pattern: new RegExp(
        `^${path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z0-9_]+/g, "[^/]+")}$`,
      ),
      methods,
    }));
  };
  return (c) => {
    known ??= index();
    const allowed = new Set<string>();
    for (const { pattern, methods } of known) {
      if (pattern.test(c.req.path)) for (const method of methods) allowed.add(method);
    }
    if (allowed.size === 0) return notFound(c);
    c.header("Allow", [...allowed].sort().join(", "));
    return errorResponse(
      c,
      new DomainError("METHOD_NOT_ALLOWED", `${c.req.method.slice(0, 20)} is not allowed here`, {
        allowed: [...allowed].sort(),
      }),
    );
  };
}

/** An error body for when there is no app to answer (the configuration is unusable). */
export function standaloneErrorResponse(code: ErrorCode, message: string): Response {
  const requestId = crypto.randomUUID();
  const body: ErrorBody = { error: { code, message, requestId } };
  return new Response(JSON.stringify(body), {
    status: STATUS_BY_CODE[code],
    headers: { "content-type": "application/json", "X-Request-Id": requestId },
  });
}
