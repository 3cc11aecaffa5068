import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { jsxRenderer } from "hono/jsx-renderer";
import {
  invalidTextRefusal,
  isDomainError,
  RETRY_AFTER_SECONDS,
  unavailableRefusal,
} from "../functions/domain/errors";
import { isCallerRefusal } from "../functions/http/auth";
import { Layout } from "./components/layout";
import { DomainErrorNotice } from "./components/notice";
import { type AdminDeps, type AdminEnv, adminPath } from "./context";
import { statusOf } from "./forms";
import { limitFormBody, originCheck, securityHeaders } from "./middleware";
import { MessagePage } from "./pages/message-page";
import { auditPages } from "./routes/audit";
import { generatorPages } from "./routes/generators";
import { jobPages } from "./routes/jobs";
import { batchPages } from "./routes/retry-batches";
import { intentPages } from "./routes/retry-intents";
import { signalPages } from "./routes/signals";
import { MIN_SECRET_LENGTH } from "./session";
import {
  callerRefusedPage,
  proveSignIn,
  registerSignIn,
  registerSignOut,
  requireFormToken,
  requireSignIn,
} from "./sign-in";
import { STYLESHEET } from "./styles";

export type { AdminDeps } from "./context";

const NOT_FOUND_HEADINGS: Partial<Record<string, string>> = {
  JOB_NOT_FOUND: "Job not found",
  INTENT_NOT_FOUND: "Retry intent not found",
  BATCH_NOT_FOUND: "Retry batch not found",
  GENERATOR_NOT_FOUND: "Generator not found",
};

/**
 * The admin page: server-rendered retry governance over the same domain functions as the API.
 * The server mounts it at `/admin` below its caller context (functions/server.ts). Every
 * response carries a strict Content-Security-Policy; every POST passes an Origin check and a
 * per-session form token; changes take an admin (`requireAdmin()` on each).
 */
export function createAdminApp(deps: AdminDeps): Hono<AdminEnv> {
  if (typeof deps.sessionSecret !== "string" || deps.sessionSecret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `the admin page's sessionSecret must be at least ${MIN_SECRET_LENGTH} characters`,
    );
  }
  const app = new Hono<AdminEnv>();

  app.use("*", securityHeaders());
  app.get("/assets/admin.css", (c) => {
    c.header("Content-Type", "text/css; charset=utf-8");
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    return c.body(STYLESHEET);
  });
  app.use("*", jsxRenderer(Layout));
  app.use("*", originCheck());
  app.use("*", limitFormBody());

  registerSignIn(app, deps);
  app.use("*", requireSignIn(deps));
  app.use("*", requireFormToken());
  registerSignOut(app);

  app.route("/", jobPages);
  app.route("/retry-intents", intentPages);
  app.route("/retry-batches", batchPages);
  app.route("/audit", auditPages);
  app.route("/signals", signalPages);
  app.route("/generators", generatorPages);

  // Anything else, including any other method on these paths: there is nothing to edit or delete.
  app.all("*", async (c) => {
    if (c.req.method === "GET" && c.req.path === `${adminPath()}/`) {
      return c.redirect(adminPath(), 308);
    }
    await proveSignIn(c);
    c.status(404);
    return c.render(
      <MessagePage heading="Not found" requestId={c.var.requestId}>
        <p>There is no admin page at this address.</p>
      </MessagePage>,
      { title: "Not found" },
    );
  });

  app.onError(async (thrown, c) => {
    const error = invalidTextRefusal(thrown) ?? unavailableRefusal(thrown) ?? thrown;
    if (isCallerRefusal(error)) return callerRefusedPage(c, error);
    if (isDomainError(error)) {
      c.status(statusOf(error));
      if (error.code === "SERVICE_UNAVAILABLE")
        c.header("Retry-After", String(RETRY_AFTER_SECONDS));
      const heading = NOT_FOUND_HEADINGS[error.code] ?? "Refused";
      return c.render(
        <MessagePage heading={heading} requestId={c.var.requestId}>
          <DomainErrorNotice error={error} />
        </MessagePage>,
        { title: heading },
      );
    }
    if (error instanceof HTTPException) return error.getResponse();
    console.error(`admin page: request ${c.var.requestId} failed`, error);
    c.status(500);
    return c.render(
      <MessagePage heading="Something went wrong" requestId={c.var.requestId}>
        <p>
          The page could not be shown because of an error on our side. Quote the request id when you
          report it.
        </p>
      </MessagePage>,
      { title: "Error" },
    );
  });

  return app;
}
