import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { jsxRenderer } from "hono/jsx-renderer";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { JobStatus, RetryIntentStatus, RetryReasonCode } from "../db/schema";
import { auditTrail, listAudit } from "../functions/domain/audit";
import { DomainError, invalidTextRefusal, isDomainError } from "../functions/domain/errors";
import {
  countJobsByStatus,
  findOutput,
  getJob,
  getLineage,
  listJobs,
} from "../functions/domain/jobs";
import {
  createRetryIntent,
  findJobCreatedBy,
  getRetryIntent,
  listRetryIntents,
  listRetryIntentsForJob,
  rejectRetryIntent,
} from "../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../functions/domain/retry-service";
import { STATUS_BY_CODE } from "../functions/http/errors";
import { Layout } from "./components/layout";
import { DomainErrorNotice } from "./components/notice";
import {
  type AdminContext,
  type AdminDeps,
  type AdminEnv,
  adminPath,
  auditContextOf,
} from "./context";
import { AuditPage } from "./pages/audit-page";
import { ExecutePage } from "./pages/execute-page";
import { IntentPage, type IntentPageData, type IntentPageView } from "./pages/intent-page";
import { INTENT_TABS, type IntentFilter, IntentsPage } from "./pages/intents-page";
import { JobIntentsPage } from "./pages/job-intents-page";
import { JobPage, type JobPageData } from "./pages/job-page";
import { JobsPage, STATUS_TABS, type StatusFilter } from "./pages/jobs-page";
import { MessagePage } from "./pages/message-page";
import type { RetryFormValues } from "./pages/retry-form";
import { jobsCreatedBy, knownGenerators, retryStatesOf } from "./read-models";
import { MIN_SECRET_LENGTH } from "./session";
import { registerSignIn, registerSignOut, requireFormToken, requireSignIn } from "./sign-in";
import { STYLESHEET } from "./styles";

export type { AdminDeps } from "./context";

const PAGE_SIZE = 50;
const AUDIT_PAGE_SIZE = 50;

/** The API's own code → status table, so a refusal means the same thing everywhere. */
const statusOf = (error: DomainError): ContentfulStatusCode => STATUS_BY_CODE[error.code];

/** Success messages, chosen by a fixed key in the redirect so no text travels in the URL. */
const NOTICES: Record<string, string> = {
  "intent-created":
    "Retry intent created. It is PENDING: execute it to create the retry job, or reject it.",
  "intent-rejected": "Retry intent rejected. The job can still be retried through a new intent.",
  "retry-created":
    "Retry job created from the intent. The worker will run it like any other job; the failed job is unchanged.",
};
const noticeOf = (c: AdminContext) => NOTICES[c.req.query("notice") ?? ""];

/** Form fields arrive as strings or files; anything but a string counts as missing. */
function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === "string" ? value : "";
}

const jobHref = (id: string) => adminPath(`/jobs/${encodeURIComponent(id)}`);
const intentHref = (id: string) => adminPath(`/retry-intents/${encodeURIComponent(id)}`);

/**
 * The admin page: server-rendered retry governance over the same domain functions as the API.
 * Mount it at `/admin`: `app.route("/admin", createAdminApp(deps))`. Every response carries a
 * strict Content-Security-Policy; every POST passes an Origin check and a per-session form token.
 */
export function createAdminApp(deps: AdminDeps): Hono<AdminEnv> {
  if (typeof deps.sessionSecret !== "string" || deps.sessionSecret.length < MIN_SECRET_LENGTH) {
    throw new Error(
      `the admin page's sessionSecret must be at least ${MIN_SECRET_LENGTH} characters`,
    );
  }
  const { db } = deps;
  const app = new Hono<AdminEnv>();

  app.use("*", async (c, next) => {
    // Mounted under an app that already assigned a request id, keep it: one id per request.
    const inherited: unknown = (c.get as (key: string) => unknown)("requestId");
    const requestId = typeof inherited === "string" && inherited ? inherited : crypto.randomUUID();
    c.set("requestId", requestId);
    c.header("X-Request-Id", requestId);
    c.header("Cache-Control", "no-store");
    await next();
  });

  app.use(
    "*",
    secureHeaders({
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
    }),
  );

  app.get("/assets/admin.css", (c) => {
    c.header("Content-Type", "text/css; charset=utf-8");
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    return c.body(STYLESHEET);
  });

  app.use("*", jsxRenderer(Layout));

  const originCheck = csrf();
  app.use("*", async (c, next) => {
    let allowed = false;
    try {
      await originCheck(c, async () => {
        allowed = true;
      });
    } catch (error) {
      if (!(error instanceof HTTPException)) throw error;
    }
    if (!allowed) {
      c.status(403);
      return c.render(
        <MessagePage heading="Form refused" requestId={c.get("requestId")}>
          <p>
            This form was sent from another site, so it was refused and nothing was changed. Admin
            actions can only be taken from the admin page itself.
          </p>
        </MessagePage>,
        { title: "Form refused" },
      );
    }
    await next();
  });

  app.use(
    "*",
    bodyLimit({
      maxSize: 64 * 1024,
      onError: (c) => {
        c.status(413);
        return c.render(
          <MessagePage heading="Too large">
            <p>The form was larger than the admin page accepts (64 KB).</p>
          </MessagePage>,
          { title: "Too large" },
        );
      },
    }),
  );

  registerSignIn(app, deps);
  app.use("*", requireSignIn(deps));
  app.use("*", requireFormToken());
  registerSignOut(app);

  const adminsOnly = (c: AdminContext) => {
    if (c.get("principal").role === "admin") return null;
    c.status(403);
    return c.render(
      <MessagePage heading="Admins only" requestId={c.get("requestId")}>
        <p>
          You are signed in as a viewer: you can read everything, but creating, executing or
          rejecting retry intents takes an admin.
        </p>
      </MessagePage>,
      { title: "Admins only" },
    );
  };

  async function loadJob(jobId: string): Promise<JobPageData> {
    const job = await getJob(db, jobId);
    const [output, lineage, intents, audit] = await Promise.all([
      findOutput(db, job.id),
      getLineage(db, job.id),
      listRetryIntentsForJob(db, job.id),
      auditTrail(db, job.id),
    ]);
    // A consumed intent of this job created the next job of its chain.
    const createdJobs = new Map(
      lineage.flatMap((e) =>
        e.job.retryIntentId ? [[e.job.retryIntentId, e.job.id] as const] : [],
      ),
    );
    return { job, output, lineage, intents, createdJobs, audit };
  }

  async function loadIntent(id: string): Promise<IntentPageData> {
    const intent = await getRetryIntent(db, id);
    const [sourceJob, createdJob, audit] = await Promise.all([
      getJob(db, intent.sourceJobId),
      intent.status === "CONSUMED" ? findJobCreatedBy(db, intent.id) : undefined,
      auditTrail(db, intent.id),
    ]);
    return { intent, sourceJob, createdJob, audit };
  }

  const fourEyesBlocks = (c: AdminContext, data: IntentPageData) =>
    Boolean(deps.requireDistinctExecutor) &&
    data.intent.status === "PENDING" &&
    data.intent.approvedBy === c.get("principal").actor;

  async function renderIntent(
    c: AdminContext,
    id: string,
    view: Partial<IntentPageView>,
    status: ContentfulStatusCode = 200,
  ) {
    const data = await loadIntent(id);
    c.status(status);
    return c.render(
      <IntentPage
        data={data}
        view={{
          canMutate: c.get("principal").role === "admin",
          fourEyesBlocked: fourEyesBlocks(c, data),
          ...view,
        }}
      />,
      { title: `Intent ${id}`, section: "intents" },
    );
  }

  async function renderJob(
    c: AdminContext,
    jobId: string,
    extra: { notice?: string; form?: { values: RetryFormValues; error?: DomainError } } = {},
    status: ContentfulStatusCode = 200,
  ) {
    const data = await loadJob(jobId);
    c.status(status);
    return c.render(
      <JobPage
        data={data}
        canMutate={c.get("principal").role === "admin"}
        notice={extra.notice}
        form={extra.form}
      />,
      { title: `Job ${data.job.id}`, section: "jobs" },
    );
  }

  app.get("/", async (c) => {
    const requested = c.req.query("status") as StatusFilter | undefined;
    const status: StatusFilter =
      requested && STATUS_TABS.includes(requested) ? requested : "FAILED";
    const generator = c.req.query("generator") || undefined;
    const cursor = c.req.query("cursor") || undefined;
    const [page, counts, generators] = await Promise.all([
      listJobs(db, {
        status: status === "all" ? undefined : (status as JobStatus),
        generator,
        limit: PAGE_SIZE,
        cursor,
      }),
      countJobsByStatus(db),
      knownGenerators(db),
    ]);
    const retryStates = await retryStatesOf(
      db,
      page.items.map((j) => j.id),
    );
    return c.render(
      <JobsPage
        status={status}
        generator={generator}
        generators={generators}
        counts={counts}
        jobs={page.items}
        nextCursor={page.nextCursor}
        paged={Boolean(cursor)}
        retryStates={retryStates}
      />,
      { title: status === "FAILED" ? "Failed jobs" : "Jobs", section: "jobs" },
    );
  });

  app.get("/jobs/:jobId", (c) => renderJob(c, c.req.param("jobId"), { notice: noticeOf(c) }));

  app.get("/jobs/:jobId/retry-intents", async (c) => {
    const job = await getJob(db, c.req.param("jobId"));
    const intents = await listRetryIntentsForJob(db, job.id);
    const createdJobs = await jobsCreatedBy(
      db,
      intents.filter((i) => i.status === "CONSUMED").map((i) => i.id),
    );
    return c.render(<JobIntentsPage job={job} intents={intents} createdJobs={createdJobs} />, {
      title: `Retry intents of ${job.id}`,
      section: "jobs",
    });
  });

  app.post("/jobs/:jobId/retry-intents", async (c) => {
    const refused = adminsOnly(c);
    if (refused) return refused;
    const jobId = c.req.param("jobId");
    const body = await c.req.parseBody();
    const values = { reasonCode: field(body, "reasonCode"), reasonText: field(body, "reasonText") };
    try {
      const intent = await createRetryIntent(db, auditContextOf(c), {
        sourceJobId: jobId,
        reasonCode: values.reasonCode as RetryReasonCode,
        reasonText: values.reasonText,
      });
      return c.redirect(`${intentHref(intent.id)}?notice=intent-created`, 303);
    } catch (error) {
      if (!isDomainError(error) || error.code === "JOB_NOT_FOUND") throw error;
      return renderJob(c, jobId, { form: { values, error } }, statusOf(error));
    }
  });

  app.get("/retry-intents", async (c) => {
    const requested = c.req.query("status") as IntentFilter | undefined;
    const status: IntentFilter =
      requested && INTENT_TABS.includes(requested) ? requested : "PENDING";
    const cursor = c.req.query("cursor") || undefined;
    const page = await listRetryIntents(db, {
      status: status === "all" ? undefined : (status as RetryIntentStatus),
      limit: PAGE_SIZE,
      cursor,
    });
    const createdJobs = await jobsCreatedBy(
      db,
      page.items.filter((i) => i.status === "CONSUMED").map((i) => i.id),
    );
    return c.render(
      <IntentsPage
        status={status}
        intents={page.items}
        createdJobs={createdJobs}
        nextCursor={page.nextCursor}
        paged={Boolean(cursor)}
      />,
      { title: "Retry intents", section: "intents" },
    );
  });

  app.get("/retry-intents/:id", (c) => renderIntent(c, c.req.param("id"), { notice: noticeOf(c) }));

  app.get("/retry-intents/:id/execute", async (c) => {
    const refused = adminsOnly(c);
    if (refused) return refused;
    const data = await loadIntent(c.req.param("id"));
    const { intent } = data;
    if (intent.status !== "PENDING") {
      const error = new DomainError(
        "INTENT_NOT_PENDING",
        `retry intent ${intent.id} is ${intent.status}, not PENDING`,
        { intentId: intent.id, status: intent.status, jobId: data.createdJob?.id },
      );
      return renderIntent(c, intent.id, { error }, 409);
    }
    if (fourEyesBlocks(c, data)) {
      const error = new DomainError(
        "FOUR_EYES_REQUIRED",
        "the admin who approved this intent cannot also execute it",
        { intentId: intent.id, approvedBy: intent.approvedBy },
      );
      return renderIntent(c, intent.id, { error }, 403);
    }
    return c.render(<ExecutePage intent={intent} sourceJob={data.sourceJob} />, {
      title: "Execute retry intent",
      section: "intents",
    });
  });

  app.post("/retry-intents/:id/execute", async (c) => {
    const refused = adminsOnly(c);
    if (refused) return refused;
    const id = c.req.param("id");
    try {
      const { job } = await createRetryJobFromIntent(db, auditContextOf(c), id, {
        requireDistinctExecutor: deps.requireDistinctExecutor,
      });
      return c.redirect(`${jobHref(job.id)}?notice=retry-created`, 303);
    } catch (error) {
      if (!isDomainError(error) || error.code === "INTENT_NOT_FOUND") throw error;
      return renderIntent(c, id, { error }, statusOf(error));
    }
  });

  app.post("/retry-intents/:id/reject", async (c) => {
    const refused = adminsOnly(c);
    if (refused) return refused;
    const id = c.req.param("id");
    const body = await c.req.parseBody();
    const text = field(body, "reasonText");
    try {
      await rejectRetryIntent(db, auditContextOf(c), id, text);
      return c.redirect(`${intentHref(id)}?notice=intent-rejected`, 303);
    } catch (error) {
      if (!isDomainError(error) || error.code === "INTENT_NOT_FOUND") throw error;
      return renderIntent(c, id, { error, rejectText: text }, statusOf(error));
    }
  });

  app.get("/audit", async (c) => {
    const filter = {
      subjectId: c.req.query("subjectId")?.trim() || undefined,
      type: c.req.query("type") || undefined,
    };
    const cursor = c.req.query("cursor") || undefined;
    const page = await listAudit(db, { ...filter, limit: AUDIT_PAGE_SIZE, cursor });
    return c.render(
      <AuditPage
        filter={filter}
        events={page.items}
        nextCursor={page.nextCursor}
        paged={Boolean(cursor)}
      />,
      { title: "Audit", section: "audit" },
    );
  });

  // Anything else, including any other method on these paths: there is nothing to edit or delete.
  app.all("*", (c) => {
    if (c.req.method === "GET" && c.req.path === `${adminPath()}/`) {
      return c.redirect(adminPath(), 308);
    }
    c.status(404);
    return c.render(
      <MessagePage heading="Not found" requestId={c.get("requestId")}>
        <p>There is no admin page at this address.</p>
      </MessagePage>,
      { title: "Not found" },
    );
  });

  app.onError((thrown, c) => {
    const error = invalidTextRefusal(thrown) ?? thrown;
    if (isDomainError(error)) {
      c.status(statusOf(error));
      const heading =
        error.code === "JOB_NOT_FOUND"
          ? "Job not found"
          : error.code === "INTENT_NOT_FOUND"
            ? "Retry intent not found"
            : "Refused";
      return c.render(
        <MessagePage heading={heading} requestId={c.get("requestId")}>
          <DomainErrorNotice error={error} />
        </MessagePage>,
        { title: heading },
      );
    }
    if (error instanceof HTTPException) return error.getResponse();
    console.error(`admin page: request ${c.get("requestId")} failed`, error);
    c.status(500);
    return c.render(
      <MessagePage heading="Something went wrong" requestId={c.get("requestId")}>
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
