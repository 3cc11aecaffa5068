/** The admin page's named middleware: what every page, or every change, passes through first. */
import type { MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { limitBody } from "../functions/http/body-limit";
import type { AdminEnv } from "./context";
import { MessagePage } from "./pages/message-page";

/**
 * A strict Content-Security-Policy (no script at all), frame denial and the other security
 * headers, and `no-store`: admin pages show what only signed-in people may see.
 */
export function securityHeaders(): MiddlewareHandler<AdminEnv> {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'none'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", "data:"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: "DENY",
    // Not no-referrer: with it, browsers send `Origin: null` on same-origin form posts.
    referrerPolicy: "same-origin",
  });
  return async function securityHeaders(c, next) {
    c.header("Cache-Control", "no-store");
    await headers(c, next);
  };
}

/**
 * The first CSRF defence: a form posted from another origin is refused with a page that says
 * so, and nothing changes. (The second is the per-session form token, `requireFormToken`.)
 */
export function originCheck(): MiddlewareHandler<AdminEnv> {
  const check = csrf();
  return async function originCheck(c, next) {
    let allowed = false;
    try {
      await check(c, async () => {
        allowed = true;
      });
    } catch (error) {
      if (!(error instanceof HTTPException)) throw error;
    }
    if (!allowed) {
      c.status(403);
      return c.render(
        <MessagePage heading="Form refused" requestId={c.var.requestId}>
          <p>
            This form was sent from another site, so it was refused and nothing was changed. Admin
            actions can only be taken from the admin page itself.
          </p>
        </MessagePage>,
        { title: "Form refused" },
      );
    }
    await next();
  };
}

/** The server's one body limit, answered with a page. */
export function limitFormBody(): MiddlewareHandler<AdminEnv> {
  return limitBody((c) => {
    c.status(413);
    return c.render(
      <MessagePage heading="Too large">
        <p>The form was larger than the admin page accepts (64 KB).</p>
      </MessagePage>,
      { title: "Too large" },
    );
  });
}

/**
 * Lets only admins through: approving, executing and rejecting intents and batches. A viewer
 * gets a page saying why, and nothing changes.
 *
 * @example
 * jobs.post("/:jobId/retry-intents", requireAdmin(), createIntent);
 */
export function requireAdmin(): MiddlewareHandler<AdminEnv> {
  return async function requireAdmin(c, next) {
    // The page's statement proves the caller (requireSignIn): asked for the admin role, the
    // database refuses a viewer, who gets the "Admins only" page, and nothing changes.
    const guard = c.get("callerGuard");
    if (guard) guard.role = "admin";
    await next();
  };
}
