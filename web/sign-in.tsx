import type { Hono, MiddlewareHandler } from "hono";
import { verifyApiToken } from "../functions/domain/api-tokens";
import { recordAudit } from "../functions/domain/audit";
import { tokenNames } from "../functions/domain/read-models";
import { auditContext } from "../functions/http/caller";
import { hasRole, type Principal } from "../functions/http/principal";
import { CSRF_FIELD } from "./components/csrf-field";
import { type AdminContext, type AdminDeps, type AdminEnv, adminPath } from "./context";
import { LoginPage } from "./pages/login-page";
import { MessagePage } from "./pages/message-page";
import {
  csrfTokenFor,
  endSession,
  findSessionToken,
  hasSessionCookie,
  readSession,
  safeReturnPath,
  sameToken,
  startSession,
} from "./session";

type Resolved =
  | { kind: "signed-in"; principal: Principal; csrfKey: string }
  | { kind: "submitter" }
  | { kind: "anonymous"; hadSession: boolean };

const signedIn = (principal: Principal, csrfKey: string): Resolved =>
  hasRole(principal, "viewer") ? { kind: "signed-in", principal, csrfKey } : { kind: "submitter" };

/**
 * Who the request comes from: the Access identity when Access vouches for one that holds a
 * role, else the session cookie, whose token is read again so that a revocation takes effect
 * at once.
 */
async function resolve(c: AdminContext, deps: AdminDeps): Promise<Resolved> {
  const access = deps.access ? await deps.access(c.req.raw) : undefined;
  if (access?.outcome === "ok" && access.principal.roles.length > 0) {
    return signedIn(access.principal, `access\n${access.principal.actor}`);
  }
  const session = await readSession(c, deps.sessionSecret);
  if (!session) return { kind: "anonymous", hadSession: hasSessionCookie(c) };
  const token = await findSessionToken(deps.db, session.tokenId);
  if (!token || token.revokedAt) return { kind: "anonymous", hadSession: true };
  const principal: Principal = {
    actor: `token:${token.id}`,
    roles: [token.role],
    via: "session",
    label: token.name,
  };
  return signedIn(principal, `token\n${session.tokenId}\n${session.nonce}`);
}

function submitterRefused(c: AdminContext) {
  c.status(403);
  return c.render(
    <MessagePage heading="The admin page is for admins and viewers" requestId={c.var.requestId}>
      <p>
        You are signed in with the <strong>submitter</strong> role. Submitters send jobs and read
        their own through the API; they cannot use the admin page. Ask for an admin or viewer token.
      </p>
    </MessagePage>,
    { title: "Not for submitters" },
  );
}

function loginRedirect(c: AdminContext, reason?: "expired") {
  const params = new URLSearchParams();
  const here = new URL(c.req.url);
  // After a POST the form data is gone; coming back to the page it was sent from is the best offer.
  if (c.req.method === "GET") params.set("next", here.pathname + here.search);
  if (reason) params.set("expired", "1");
  return c.redirect(`${adminPath("/login")}?${params}`, 303);
}

const PUBLIC_PATHS = new Set([adminPath("/login")]);

/** Lets signed-in admins and viewers through; everyone else goes to sign in (or gets a 403). */
export function requireSignIn(deps: AdminDeps): MiddlewareHandler<AdminEnv> {
  return async function requireSignIn(c, next) {
    if (PUBLIC_PATHS.has(c.req.path) || c.req.path.startsWith(adminPath("/assets/"))) {
      return next();
    }
    const who = await resolve(c, deps);
    if (who.kind === "submitter") return submitterRefused(c);
    if (who.kind === "anonymous") {
      if (who.hadSession) endSession(c);
      return loginRedirect(c, who.hadSession ? "expired" : undefined);
    }
    c.set("principal", who.principal);
    c.set("csrfToken", await csrfTokenFor(deps.sessionSecret, who.csrfKey));
    c.set("tokenNames", await tokenNames(deps.db));
    await next();
  };
}

/**
 * The second CSRF defence, after the Origin check: every POST from a signed-in page must carry
 * the session's form token. A page from another origin cannot read it.
 */
export function requireFormToken(): MiddlewareHandler<AdminEnv> {
  return async function requireFormToken(c, next) {
    if (c.req.method !== "POST" || PUBLIC_PATHS.has(c.req.path)) return next();
    const body = await c.req.parseBody();
    const sent = body[CSRF_FIELD];
    if (typeof sent !== "string" || !sameToken(sent, c.get("csrfToken"))) {
      c.status(403);
      return c.render(
        <MessagePage heading="This form has expired" requestId={c.var.requestId}>
          <p>
            The form was not sent from a page of this session (its security token did not match), so
            nothing was changed. Go back, reload the page and try again.
          </p>
        </MessagePage>,
        { title: "Form refused" },
      );
    }
    await next();
  };
}

/** `/login` (a form taking an API token) and `/logout`. */
export function registerSignIn(app: Hono<AdminEnv>, deps: AdminDeps): void {
  app.get("/login", async (c) => {
    const next = safeReturnPath(c.req.query("next"));
    const who = await resolve(c, deps);
    if (who.kind === "signed-in") return c.redirect(next, 303);
    const info = c.req.query("signedOut")
      ? "You are signed out."
      : c.req.query("expired")
        ? "Your session has ended or its token was revoked. Sign in again."
        : undefined;
    return c.render(<LoginPage next={next} info={info} />, { title: "Sign in" });
  });

  app.post("/login", async (c) => {
    const body = await c.req.parseBody();
    const presented = typeof body.token === "string" ? body.token.trim() : "";
    const next = safeReturnPath(typeof body.next === "string" ? body.next : undefined);
    const check = await verifyApiToken(deps.db, presented);
    const denied = async (reason: string, actor: string, tokenId?: string) => {
      await recordAudit(deps.db, auditContext(c, actor), [
        {
          type: "AUTH_DENIED",
          subjectType: "request",
          subjectId: c.var.requestId,
          data: { via: "admin-login", reason, ...(tokenId ? { tokenId } : {}) },
        },
      ]);
    };
    if (!check.ok) {
      await denied(
        check.reason,
        check.tokenId ? `token:${check.tokenId}` : "anonymous",
        check.tokenId,
      );
      c.status(401);
      return c.render(
        <LoginPage
          next={next}
          error="That token was not accepted: it is unknown or has been revoked."
        />,
        { title: "Sign in" },
      );
    }
    if (check.token.role === "submitter") {
      await denied("role", `token:${check.token.id}`, check.token.id);
      c.status(403);
      return c.render(
        <LoginPage
          next={next}
          error="Submitter tokens send jobs through the API; they cannot use the admin page. Sign in with an admin or viewer token."
        />,
        { title: "Sign in" },
      );
    }
    await startSession(c, deps.sessionSecret, check.token.id);
    return c.redirect(next, 303);
  });
}

/** Sign-out: a POST, so that a link or an image elsewhere cannot sign anyone out. */
export function registerSignOut(app: Hono<AdminEnv>): void {
  app.post("/logout", (c) => {
    endSession(c);
    return c.redirect(`${adminPath("/login")}?signedOut=1`, 303);
  });
}
