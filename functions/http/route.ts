import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { ErrorCode } from "../domain/errors";
import { refuseLimitedAddress, requireRole } from "./auth";
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
  429: "TOO_MANY_REQUESTS: too many failed authentications from this address; try again after Retry-After seconds",
  500: "INTERNAL: an unexpected failure; quote the requestId",
  503: "SERVICE_UNAVAILABLE: the database did not answer; try again after Retry-After seconds",
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
  429: "too many failed authentications",
  500: "an unexpected failure",
  503: "unavailable for now",
};

/** Response headers as the document declares them. */
interface HeaderEntry {
  description: string;
  required: boolean;
  schema: { type: "string"; minLength?: number; pattern?: string; enum?: string[] };
}
type HeaderEntries = Record<string, HeaderEntry>;

const header = (
  description: string,
  schema: HeaderEntry["schema"],
  required = true,
): HeaderEntry => ({ description, required, schema });

export const REQUEST_ID_HEADER: HeaderEntries = {
  "X-Request-Id": header("the request's id, also in error bodies and in the server's log", {
    type: "string",
    minLength: 1,
  }),
};
const RETRY_AFTER_HEADER: HeaderEntries = {
  "Retry-After": header("seconds to wait before trying again", {
    type: "string",
    pattern: "^[0-9]+$",
  }),
};
const AUTHENTICATE_HEADER: HeaderEntries = {
  "WWW-Authenticate": header("the scheme to authenticate with", { type: "string" }),
};
const REPLAYED_HEADER: HeaderEntries = {
  "Idempotent-Replayed": header(
    "`true` when this is the stored first response to the same Idempotency-Key, not a new creation",
    { type: "string", enum: ["true"] },
    false,
  ),
};

const HEADERS_BY_STATUS: Partial<Record<ErrorStatus, HeaderEntries>> = {
  401: AUTHENTICATE_HEADER,
  429: RETRY_AFTER_HEADER,
  503: RETRY_AFTER_HEADER,
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

/** A route without query parameters refuses any (400 VALIDATION_FAILED), as list routes do. */
export const NoQuery = z.strictObject({});

/**
 * What every API route declares besides its own answers: the errors any request may meet (a bad
 * query, header or body; no or bad credentials; a refused role; an address over the
 * failed-authentication limit; a body over the limit or not JSON; a failure; the database
 * away), `X-Request-Id` on every response, and `Idempotent-Replayed` on the success of a route
 * that takes an Idempotency-Key. The route's own entries (with their codes) win over the
 * generic ones. A signed-in route refuses a limited address before its own middleware runs, so
 * that the 429 it declares is one it answers.
 */
function contract<const R extends RouteConfig>(config: R, authenticated = true): R {
  const request = config.request ?? {};
  const statuses: ErrorStatus[] = authenticated ? [400, 401, 403, 429, 500, 503] : [400, 500, 503];
  if (config.method === "post") statuses.push(413);
  if (request.body) statuses.push(415);
  const idempotent = Boolean(
    request.headers && "shape" in request.headers && "idempotency-key" in request.headers.shape,
  );
  const responses = Object.fromEntries(
    Object.entries({ ...errorResponses(...statuses), ...config.responses }).map(
      ([status, response]) => {
        const headers: HeaderEntries = {
          ...REQUEST_ID_HEADER,
          ...HEADERS_BY_STATUS[Number(status) as ErrorStatus],
          ...(Number(status) < 300 && idempotent ? REPLAYED_HEADER : {}),
        };
        return [status, { ...response, headers }];
      },
    ),
  );
  const limited = authenticated
    ? { middleware: [refuseLimitedAddress(), ...[config.middleware ?? []].flat()] }
    : {};
  return { ...config, request: { query: NoQuery, ...request }, responses, ...limited };
}

export const SECURITY: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { accessJwt: [] }];

/** A route anyone may call: `security: []` in the document, and the contract of every route. */
export function publicRoute<const R extends RouteConfig>(config: R) {
  return createRoute(contract({ ...config, security: [] }, false)) as ReturnType<
    typeof createRoute<R["path"], R>
  >;
}

/** A route with its own way of checking credentials (`middleware`), and the common contract. */
export function guardedRoute<const R extends RouteConfig>(config: R) {
  return createRoute(contract({ ...config, security: SECURITY })) as ReturnType<
    typeof createRoute<R["path"], R>
  >;
}

/**
 * A route only principals holding `role` may call (admin holds every role). The role check runs
 * before validation, and the role is written into the OpenAPI document as `x-regent-role`.
 */
export function securedRoute<const R extends RouteConfig>(role: Role, config: R) {
  return createRoute(
    contract({
      ...config,
      security: SECURITY,
      middleware: requireRole(role),
      "x-regent-role": role,
    }),
  ) as ReturnType<typeof createRoute<R["path"], R>>;
}
