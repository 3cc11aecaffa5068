import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { DomainError, type ErrorCode, invalidTextRefusal } from "../domain/errors";

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
  JOB_NOT_FAILED: 409,
  INTENT_ALREADY_PENDING: 409,
  JOB_ALREADY_RETRIED: 409,
  INTENT_NOT_PENDING: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
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

/**
 * Maps anything thrown to the error body. Unexpected errors are logged with the request id and
 * answered with a bare INTERNAL: no stack, no SQL, no driver message reaches the client.
 */
export const onError: ErrorHandler = (error, c) => {
  if (error instanceof DomainError) return errorResponse(c, error);
  if (error instanceof HTTPException) return errorResponse(c, fromHttpException(error));
  const badText = invalidTextRefusal(error);
  if (badText) return errorResponse(c, badText);
  console.error(
    JSON.stringify({
      level: "error",
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }),
  );
  return errorResponse(c, new DomainError("INTERNAL", "internal error"));
};

export const notFound: NotFoundHandler = (c) =>
  errorResponse(c, new DomainError("NOT_FOUND", "no such resource"));

/** An error body for when there is no app to answer (the configuration is unusable). */
export function standaloneErrorResponse(code: ErrorCode, message: string): Response {
  const requestId = crypto.randomUUID();
  const body: ErrorBody = { error: { code, message, requestId } };
  return new Response(JSON.stringify(body), {
    status: STATUS_BY_CODE[code],
    headers: { "content-type": "application/json", "X-Request-Id": requestId },
  });
}
