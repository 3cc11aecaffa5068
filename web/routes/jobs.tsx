/** The jobs list (the admin page's home), a job's page, and a job's retry intents. */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { JobStatus, RetryReasonCode } from "../../db/schema";
import { auditTrail } from "../../functions/domain/audit";
import { type DomainError, isDomainError } from "../../functions/domain/errors";
import { countJobsByStatus, getJob, listJobs } from "../../functions/domain/jobs";
import {
  jobDetail,
  jobsCreatedBy,
  knownGenerators,
  retryStatesOf,
} from "../../functions/domain/read-models";
import { createRetryIntent, listRetryIntentsForJob } from "../../functions/domain/retry-intents";
import { auditContext } from "../../functions/http/caller";
import { type AdminContext, type AdminEnv, canMutate } from "../context";
import { field, intentHref, noticeOf, queryValue, statusOf } from "../forms";
import { requireAdmin } from "../middleware";
import { JobIntentsPage } from "../pages/job-intents-page";
import { JobPage, type JobPageData } from "../pages/job-page";
import { JobsPage, STATUS_TABS, type StatusFilter } from "../pages/jobs-page";
import type { RetryFormValues } from "../pages/retry-form";

const PAGE_SIZE = 50;

async function loadJob(c: AdminContext, jobId: string): Promise<JobPageData> {
  const [detail, audit] = await Promise.all([
    jobDetail(c.var.db, jobId),
    auditTrail(c.var.db, jobId),
  ]);
  // A consumed intent of this job created the next job of its chain.
  const createdJobs = new Map(
    detail.lineage.flatMap((e) =>
      e.job.retryIntentId ? [[e.job.retryIntentId, e.job.id] as const] : [],
    ),
  );
  return { ...detail, createdJobs, audit };
}

async function renderJob(
  c: AdminContext,
  jobId: string,
  extra: { notice?: string | undefined; form?: { values: RetryFormValues; error?: DomainError } },
  status: ContentfulStatusCode = 200,
) {
  const data = await loadJob(c, jobId);
  c.status(status);
  return c.render(
    <JobPage data={data} canMutate={canMutate(c)} notice={extra.notice} form={extra.form} />,
    { title: `Job ${data.job.id}`, section: "jobs" },
  );
}

export const jobPages = new Hono<AdminEnv>();

jobPages.get("/", async (c) => {
  const requested = c.req.query("status") as StatusFilter | undefined;
  const status: StatusFilter = requested && STATUS_TABS.includes(requested) ? requested : "FAILED";
  const generator = queryValue(c, "generator");
  const cursor = queryValue(c, "cursor");
  const db = c.var.db;
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

jobPages.get("/jobs/:jobId", (c) => renderJob(c, c.req.param("jobId"), { notice: noticeOf(c) }));

jobPages.get("/jobs/:jobId/retry-intents", async (c) => {
  const db = c.var.db;
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

jobPages.post("/jobs/:jobId/retry-intents", requireAdmin(), async (c) => {
  const jobId = c.req.param("jobId");
  const body = await c.req.parseBody();
  const values = { reasonCode: field(body, "reasonCode"), reasonText: field(body, "reasonText") };
  try {
    const intent = await createRetryIntent(c.var.db, auditContext(c), {
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
