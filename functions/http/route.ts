import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { ErrorCode } from "../domain/errors";
import { requireRole } from "./auth";
import { STATUS_BY_CODE } from "./errors";
import type { Role } from "./principal";
import { ErrorSchema } from "./schemas";

const ERROR_DESCRIPTIONS = {
  400: "VALIDATION_FAILED: the request does not match the schema (`details.issues` says where)",
  401: "UNAUTHENTICATED: no credentials, or unknown, revoked or expired ones",
  403: "FORBIDDEN: the caller's role does not allow this",
  404: "not found (JOB_NOT_FOUND, INTENT_NOT_FOUND, BATCH_NOT_FOUND or NOT_FOUND)",
  409: "a conflict with the current state (see the code)",
  413: "PAYLOAD_TOO_LARGE: the body exceeds 64 KiB",
  415: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
  500: "INTERNAL: an unexpected failure; quote the requestId",
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

const TITLES: Record<ErrorStatus, string> = {
  400: "the request is not valid",
  401: "not signed in",
  403: "refused",
  404: "not found",
  409: "a conflict with the current state",
  413: "too large",
  415: "not JSON",
  500: "an unexpected failure",
};

/** A status with the codes a route answers with it: `[409, "BATCH_EMPTY", "BATCH_TOO_LARGE"]`. */
export type CodedStatus = readonly [ErrorStatus, ...ErrorCode[]];

function described(spec: ErrorStatus | CodedStatus): [ErrorStatus, string] {
  if (typeof spec === "number") return [spec, ERROR_DESCRIPTIONS[spec]];
  const [status, ...codes] = spec;
  // The document must not promise a status the error table would not send for that code.
  const misplaced = codes.filter((code) => STATUS_BY_CODE[code] !== status);
  if (misplaced.length > 0) throw new Error(`${misplaced.join(", ")} not answered with ${status}`);
  const named = codes.length > 1 ? `${codes.slice(0, -1).join(", ")} or ${codes.at(-1)}` : codes[0];
  return [status, `${TITLES[status]}: ${named}`];
}

/**
 * OpenAPI entries for the error responses a route can give; each has the one error body. A
 * status given with codes is described by those codes instead of the generic sentence.
 */
export function errorResponses(...statuses: (ErrorStatus | CodedStatus)[]) {
  return Object.fromEntries(
    statuses
      .map(described)
      .map(([status, description]) => [
        status,
        { description, content: { "application/json": { schema: ErrorSchema } } },
      ]),
  ) as Record<
    ErrorStatus,
    { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }
  >;
}

export const SECURITY: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { accessJwt: [] }];

/**
 * A route only principals holding `role` may call (admin holds every role). The role check runs
 * before validation, and the role is written into the OpenAPI document as `x-regent-role`.
 */
export function securedRoute<const R extends RouteConfig>(role: Role, config: R) {
  return createRoute({
    ...config,
    security: SECURITY,
    middleware: requireRole(role),
    "x-regent-role": role,
  }) as ReturnType<typeof createRoute<R["path"], R>>;
}
