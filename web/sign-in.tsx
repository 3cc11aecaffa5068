import type { Hono, MiddlewareHandler } from "hono";
import {
  endAdminSession,
  findActiveAdminSession,
  signIn,
} from "../functions/domain/admin-sessions";
import { recordAudit } from "../functions/domain/audit";
import { recordAuthRefusal } from "../functions/domain/auth-refusals";
import {
  type CallerGuard,
  type Credential,
  guardedDb,
  proveCaller,
} from "../functions/domain/caller-guard";
import type { DomainError } from "../functions/domain/errors";
import { pageContextFrom, pageContextSql } from "../functions/domain/read-models";
import { memorySignInLimiter, signInKeys } from "../functions/domain/sign-in-limiter";
import { DEFERRED_ACTOR, isCallerRefusal, principalOf } from "../functions/http/auth";
import { auditContext } from "../functions/http/caller";
import { hasRole } from "../functions/http/principal";
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

/**
 * Who the page's caller is, without a statement of its own: the Access identity when Access
 * vouches for one that holds a role (proved here), else the session its signed cookie names
 * (proved by the database, in the page's own statement), else nobody.
 */
async function credentialOf(
  c: AdminContext,
  deps: AdminDeps,
): Promise<
  | { kind: "credential"; credential: Credential; csrfKey: string; sessionId?: string }
  | { kind: "submitter" }
  | { kind: "anonymous"; hadSession: boolean }
> {
  const access = deps.access ? await deps.access(c.req.raw) : undefined;
  if (access?.outcome === "ok" && access.principal.roles.length > 0) {
    const { principal } = access;
    if (!hasRole(principal, "viewer")) return { kind: "submitter" };
    return {
      kind: "credential",
      credential: { kind: "known", principal: { ...principal, roles: [...principal.roles] } },
      csrfKey: `access\n${principal.actor}`,
    };
  }
  const sessionId = await readSessionId(c, deps.sessionSecret);
  if (!sessionId) return { kind: "anonymous", hadSession: hasSessionCookie(c) };
  return {
    kind: "credential",
    credential: { kind: "session", id: sessionId },
    csrfKey: `session\n${sessionId}`,
    sessionId,
  };
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

function adminsOnly(c: AdminContext) {
  c.status(403);
  return c.render(
    <MessagePage heading="Admins only" requestId={c.var.requestId}>
      <p>
        You are signed in as a viewer: you can read everything, but approving, executing or
        rejecting retry intents and batches, and pausing or resuming generators, takes an admin.
      </p>
    </MessagePage>,
    { title: "Admins only" },
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

/**
 * The page for a caller the database refused: a session that ended (or was never there, or
 * whose token was revoked) signs in again; a caller without the role asked for is told why.
 */
export function callerRefusedPage(c: AdminContext, refusal: DomainError) {
  c.set("principal", undefined as unknown as AdminEnv["Variables"]["principal"]);
  if (refusal.code === "UNAUTHENTICATED") {
    clearSessionCookie(c);
    return loginRedirect(c, "expired");
  }
  return (refusal.details as { requiredRole?: string }).requiredRole === "admin"
    ? adminsOnly(c)
    : submitterRefused(c);
}

/**
 * Proves the page's caller now, when no statement of the page has (a page that renders before,
 * or without, a read of its own); the context every page shows comes with it. A refusal is
 * thrown as the database words it.
 */
export async function proveSignIn(c: AdminContext): Promise<void> {
  const guard = c.get("callerGuard");
  const inner = c.get("unguardedDb");
  if (guard && inner && !guard.proven) await proveCaller(inner, guard);
}

/**
 * Has the page's statement read the generator catalog's names beside the page's context
 * (`c.var.catalog`), for a page that links only to generators the catalog knows: they come
 * in the statement the page sends anyway. Call it before the page's read.
 */
export function askForCatalog(c: AdminContext): void {
  const guard = c.get("callerGuard");
  if (guard && !guard.proven) {
    guard.beside = pageContextSql(c.var.config.surge, { catalog: true });
  }
}

/**
 * Lets signed-in admins and viewers through; everyone else goes to sign in (or gets a 403).
 *
 * The caller is proved in the page's own statement: `c.var.db` becomes a guarded handle
 * (functions/domain/caller-guard.ts) whose every statement proves the session (or checks the
 * Access identity's role) and reads beside it what every page shows (token names, the surge,
 * the policy, the database's clock), so a page is one round trip. What needs the caller before
 * that statement (the form token) is derived from the cookie alone. A page that sent no
 * statement has its caller proved afterwards, and a refusal replaces whatever it answered.
 */
export function requireSignIn(deps: AdminDeps): MiddlewareHandler<AdminEnv> {
  return async function requireSignIn(c, next) {
    if (PUBLIC_PATHS.has(c.req.path) || c.req.path.startsWith(adminPath("/assets/"))) {
      return next();
    }
    const who = await credentialOf(c, deps);
    if (who.kind === "submitter") return submitterRefused(c);
    if (who.kind === "anonymous") {
      if (who.hadSession) clearSessionCookie(c);
      return loginRedirect(c, who.hadSession ? "expired" : undefined);
    }
    const surge = c.var.config.surge;
    const guard: CallerGuard = {
      credential: who.credential,
      role: "viewer",
      beside: pageContextSql(surge),
      proven: false,
      resolved: (caller, beside) => {
        const context = pageContextFrom(beside, surge);
        c.set("principal", principalOf(caller));
        c.set("tokenNames", context.tokenNames);
        c.set("surge", context.surge);
        c.set("pausedGenerators", context.paused);
        c.set("catalog", context.catalog);
        c.set("policy", context.policy);
        c.set("databaseNow", context.now.getTime());
      },
    };
    c.set("callerGuard", guard);
    c.set("unguardedDb", deps.db);
    c.set("db", guardedDb(deps.db, guard));
    if (who.sessionId) c.set("adminSessionId", who.sessionId);
    c.set("csrfToken", await csrfTokenFor(deps.sessionSecret, who.csrfKey));
    // Until the database has proved the caller, nobody is written as the actor: the units of
    // work take the actor the database proved.
    c.set("principal", {
      actor: DEFERRED_ACTOR,
      roles: [],
      via: who.credential.kind === "session" ? "session" : "access",
      label: "",
    });
    await next();
    if (isCallerRefusal(c.error)) {
      c.res = await callerRefusedPage(c, c.error);
      return;
    }
    if (!guard.proven) {
      try {
        await proveCaller(deps.db, guard);
      } catch (error) {
        if (!isCallerRefusal(error)) throw error;
        c.res = await callerRefusedPage(c, error);
      }
    }
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
      // The refusal is a page: its frame shows who is signed in, proved first.
      try {
        await proveSignIn(c);
      } catch (error) {
        if (isCallerRefusal(error)) return callerRefusedPage(c, error);
        throw error;
      }
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
 * Failed sign-ins are limited per client address (never per token), and the limit is
 * checked before the token is looked up, so that guessing costs a client its turn, not us a
 * query. A failure naming a known token (revoked, or a submitter's) is audited as
 * SIGN_IN_FAILED under that token; an unknown token proves no identity and is only counted
 * in `auth_refusals`, so that strangers cannot grow the audit log.
 */
export function registerSignIn(app: Hono<AdminEnv>, deps: AdminDeps): void {
  const limiter = deps.signInLimiter ?? memorySignInLimiter();

  app.get("/login", async (c) => {
    const next = safeReturnPath(c.req.query("next"));
    const access = deps.access ? await deps.access(c.req.raw) : undefined;
    if (access?.outcome === "ok" && hasRole(access.principal, "viewer")) {
      return c.redirect(next, 303);
    }
    const sessionId = await readSessionId(c, deps.sessionSecret);
    const session = sessionId ? await findActiveAdminSession(deps.db, sessionId) : undefined;
    if (session) return c.redirect(next, 303);
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
    const keys = signInKeys(c.var.caller.ip);
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
          error={`Too many failed sign-ins from this address. Try again ${retryWhen(decision.retryAfterSeconds)}.`}
        />,
        { title: "Sign in" },
      );
    }

    const session = await signIn(deps.db, auditContext(c, ""), presented);
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
    if ("refused" in session && session.refused !== "forbidden role") {
      await limiter.recordFailure(keys);
      if (session.tokenId) await failed(session.refused, session.tokenId);
      else await refusal(`admin-login:${session.refused}`);
      c.status(401);
      return c.render(
        <LoginPage
          next={next}
          error="That token was not accepted: it is unknown or has been revoked."
        />,
        { title: "Sign in" },
      );
    }
    if ("refused" in session) {
      // A submitter's token. Counted too: a known token must not write audit events as fast as
      // it can post.
      await limiter.recordFailure(keys);
      await failed("forbidden role", session.tokenId ?? "");
      c.status(403);
      return c.render(
        <LoginPage
          next={next}
          error="Submitter tokens send jobs through the API; they cannot use the admin page. Sign in with an admin or viewer token."
        />,
        { title: "Sign in" },
      );
    }
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
