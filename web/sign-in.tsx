import type { Hono, MiddlewareHandler } from "hono";
import { endAdminSession, startAdminSession } from "../functions/domain/admin-sessions";
import { verifyApiToken } from "../functions/domain/api-tokens";
import { recordAudit } from "../functions/domain/audit";
import { recordAuthRefusal } from "../functions/domain/auth-refusals";
import { type AdminPageContext, readAdminPageContext } from "../functions/domain/read-models";
import { memorySignInLimiter, signInKeys } from "../functions/domain/sign-in-limiter";
import { auditContext } from "../functions/http/caller";
import { hasRole, type Principal } from "../functions/http/principal";
import { CSRF_FIELD } from "./components/csrf-field";
import { type AdminContext, type AdminDeps, type AdminEnv, adminPath } from "./context";
import { LoginPage } from "./pages/login-page";
import { MessagePage } from "./pages/message-page";
import {
  clearSessionCookie,
  csrfTokenFor,
  hasSessionCookie,
  readSessionId,
  safeReturnPath,
  sameToken,
  setSessionCookie,
} from "./session";

type Resolved =
  | {
      kind: "signed-in";
      principal: Principal;
      csrfKey: string;
      sessionId?: string;
      context: AdminPageContext;
    }
  | { kind: "submitter" }
  | { kind: "anonymous"; hadSession: boolean };

const signedIn = (
  principal: Principal,
  csrfKey: string,
  context: AdminPageContext,
  sessionId?: string,
): Resolved =>
  hasRole(principal, "viewer")
    ? { kind: "signed-in", principal, csrfKey, context, ...(sessionId ? { sessionId } : {}) }
    : { kind: "submitter" };

/**
 * Who the request comes from: the Access identity when Access vouches for one that holds a
 * role, else the session the cookie names, read again on every request (with its token, in
 * one statement that also brings what every page shows: token names and the surge) so that
 * signing out, expiry or a revocation takes effect at once.
 */
async function resolve(c: AdminContext, deps: AdminDeps): Promise<Resolved> {
  const access = deps.access ? await deps.access(c.req.raw) : undefined;
  const surge = c.var.config.surge;
  if (access?.outcome === "ok" && access.principal.roles.length > 0) {
    const context = await readAdminPageContext(deps.db, { sessionId: null, signedIn: true, surge });
    return signedIn(access.principal, `access\n${access.principal.actor}`, context);
  }
  const sessionId = await readSessionId(c, deps.sessionSecret);
  if (!sessionId) return { kind: "anonymous", hadSession: hasSessionCookie(c) };
  const context = await readAdminPageContext(deps.db, { sessionId, signedIn: false, surge });
  const session = context.session;
  if (!session) return { kind: "anonymous", hadSession: true };
  const principal: Principal = {
    actor: `token:${session.tokenId}`,
    roles: [session.role],
    via: "session",
    label: session.tokenName,
  };
  return signedIn(principal, `session\n${session.id}`, context, session.id);
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
      if (who.hadSession) clearSessionCookie(c);
      return loginRedirect(c, who.hadSession ? "expired" : undefined);
    }
    c.set("principal", who.principal);
    if (who.sessionId) c.set("adminSessionId", who.sessionId);
    c.set("csrfToken", await csrfTokenFor(deps.sessionSecret, who.csrfKey));
    c.set("tokenNames", who.context.tokenNames);
    c.set("surge", who.context.surge);
    c.set("policy", who.context.policy);
    c.set("databaseNow", who.context.now.getTime());
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

/** "in 4 minutes (at 18:52 UTC)": when a limited client may try again. */
function retryWhen(seconds: number): string {
  const at = new Date(Date.now() + seconds * 1000).toISOString().slice(11, 16);
  const wait =
    seconds < 60
      ? `${seconds} second${seconds === 1 ? "" : "s"}`
      : `${Math.ceil(seconds / 60)} minute${Math.ceil(seconds / 60) === 1 ? "" : "s"}`;
  return `in ${wait} (at ${at} UTC)`;
}

/**
 * `/login` (a form taking an API token) and `/logout`.
 *
 * Failed sign-ins are limited per client address and per token prefix, and the limit is
 * checked before the token is looked up, so that guessing costs a client its turn, not us a
 * query. A failure naming a known token (revoked, or a submitter's) is audited as
 * SIGN_IN_FAILED under that token; an unknown token proves no identity and is only counted
 * in `auth_refusals`, so that strangers cannot grow the audit log.
 */
export function registerSignIn(app: Hono<AdminEnv>, deps: AdminDeps): void {
  const limiter = deps.signInLimiter ?? memorySignInLimiter();

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
    const keys = signInKeys(c.var.caller.ip, presented);
    const refusal = (reason: string) =>
      recordAuthRefusal(deps.db, { ip: c.var.caller.ip, reason, path: c.req.path });

    const decision = await limiter.check(keys);
    if (!decision.allowed) {
      await refusal("admin-login:limited");
      c.status(429);
      c.header("Retry-After", String(decision.retryAfterSeconds));
      return c.render(
        <LoginPage
          next={next}
          error={`Too many failed sign-ins from this address or with this token. Try again ${retryWhen(decision.retryAfterSeconds)}.`}
        />,
        { title: "Sign in" },
      );
    }

    const check = await verifyApiToken(deps.db, presented);
    const failed = async (reason: string, tokenId: string) => {
      await recordAudit(deps.db, auditContext(c, `token:${tokenId}`), [
        {
          type: "SIGN_IN_FAILED",
          subjectType: "api_token",
          subjectId: tokenId,
          data: { via: "admin-login", reason, tokenId },
        },
      ]);
    };
    if (!check.ok) {
      await limiter.recordFailure(keys);
      if (check.tokenId) await failed(check.reason, check.tokenId);
      else await refusal(`admin-login:${check.reason}`);
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
      // Counted too: a known token must not write audit events as fast as it can post.
      await limiter.recordFailure(keys);
      await failed("forbidden role", check.token.id);
      c.status(403);
      return c.render(
        <LoginPage
          next={next}
          error="Submitter tokens send jobs through the API; they cannot use the admin page. Sign in with an admin or viewer token."
        />,
        { title: "Sign in" },
      );
    }
    const session = await startAdminSession(
      deps.db,
      auditContext(c, `token:${check.token.id}`),
      check.token,
    );
    await setSessionCookie(c, deps.sessionSecret, session);
    return c.redirect(next, 303);
  });
}

/**
 * Sign-out: a POST, so that a link or an image elsewhere cannot sign anyone out. It ends the
 * session on the server, so a copy of the cookie (and its form token) is worthless afterwards.
 */
export function registerSignOut(app: Hono<AdminEnv>): void {
  app.post("/logout", async (c) => {
    const sessionId = c.get("adminSessionId");
    if (sessionId) await endAdminSession(c.var.db, auditContext(c), sessionId);
    clearSessionCookie(c);
    return c.redirect(`${adminPath("/login")}?signedOut=1`, 303);
  });
}
