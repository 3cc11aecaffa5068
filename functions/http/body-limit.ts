import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/** Request bodies are small JSON documents or forms; anything bigger is refused before it is read. */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Refuses a body over BODY_LIMIT_BYTES before reading it; each app says how it answers
 * (the API with its JSON error, the admin page with a page).
 *
 * @example
 * app.use("/api/*", limitBody((c) => errorResponse(c, payloadTooLarge())));
 */
export function limitBody(
  onTooLarge: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  return bodyLimit({ maxSize: BODY_LIMIT_BYTES, onError: onTooLarge });
}
