import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import { requireRole } from "./auth";
import type { Role } from "./principal";
import { ErrorSchema } from "./schemas";

const ERROR_DESCRIPTIONS = {
  400: "VALIDATION_FAILED: the request does not match the schema (`details.issues` says where)",
  401: "UNAUTHENTICATED: no credentials, or unknown, revoked or expired ones",
  403: "FORBIDDEN: the caller's role does not allow this",
  404: "not found (JOB_NOT_FOUND, INTENT_NOT_FOUND or NOT_FOUND)",
  409: "a conflict with the current state (see the code)",
  413: "PAYLOAD_TOO_LARGE: the body exceeds 64 KiB",
  415: "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
  500: "INTERNAL: an unexpected failure; quote the requestId",
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/** OpenAPI entries for the error responses a route can give; each has the one error body. */
export function errorResponses(...statuses: ErrorStatus[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: ERROR_DESCRIPTIONS[status],
        content: { "application/json": { schema: ErrorSchema } },
      },
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
