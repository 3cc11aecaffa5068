/** The jobs list (the admin page's home), a job's page, and a job's retry intents. */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { JobStatus, RetryIntentKind, RetryReasonCode } from "../../db/schema";
import { isDomainError } from "../../functions/domain/errors";
import { jobDetail, jobIntents, jobsPage } from "../../functions/domain/read-models";
import type { PreviewAnswer } from "../../functions/domain/retry-batches";
import { type BatchFilter, normaliseFilter } from "../../functions/domain/retry-batches";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { isCallerRefusal } from "../../functions/http/auth";
import { auditContext } from "../../functions/http/caller";
import { type AdminContext, type AdminEnv, canMutate } from "../context";
import { correctedInput, field, intentHref, noticeOf, queryValue, statusOf } from "../forms";
import { requireAdmin } from "../middleware";
import { JobIntentsPage } from "../pages/job-intents-page";
import { type JobForm, JobPage, type JobPageData } from "../pages/job-page";
import { type BatchOffer, JobsPage, STATUS_TABS, type StatusFilter } from "../pages/jobs-page";

const PAGE_SIZE = 50;

async function loadJob(c: AdminContext, jobId: string): Promise<JobPageData> {
  const detail = await jobDetail(c.var.db, jobId, { audit: true, latestOutput: true });
  // A consumed intent of this job created the next job of its chain.
  const createdJobs = new Map(
    detail.lineage.flatMap((e) =>
      e.job.retryIntentId ? [[e.job.retryIntentId, e.job.id] as const] : [],
    ),
  );
  return { ...detail, createdJobs };
}

async function renderJob(
  c: AdminContext,
  jobId: string,
  extra: { notice?: string | undefined; form?: JobForm },
  status: ContentfulStatusCode = 200,
) {
  const data = await loadJob(c, jobId);
  c.status(status);
  return c.render(
    <JobPage data={data} canMutate={canMutate(c)} notice={extra.notice} form={extra.form} />,
    { title: `Job ${data.job.id}`, section: "jobs" },
  );
}

/**
 * The filter of the list's "Retry these N jobs" action, on the failed jobs (shown to admins
 * only, once the page's statement has said who calls). Undefined on the other tabs, or when a
 * batch cannot take the filter.
 */
function offerFilter(status: StatusFilter, generator: string | undefined): BatchFilter | undefined {
  if (status !== "FAILED") return undefined;
  try {
    return normaliseFilter({ generator });
  } catch (error) {
    if (isDomainError(error) && error.code === "VALIDATION_FAILED") return undefined;
    throw error;
  }
}

/**
 * How many of the failed jobs listed one retry batch would take now, for the list's "Retry these
 * N jobs" action: the preview's own count, so the button never names a number the preview page
 * then contradicts. The preview reads every candidate; on a page everyone opens first it is
 * read (in the page's one statement) only while the failed jobs on record are at most a batch's
 * worth, and past that (`preview` null), or when a batch would be too large, the button leaves
 * the counting to the preview page.
 */
function batchOffer(preview: PreviewAnswer | null): BatchOffer {
  return preview === null || preview.refusal ? {} : { count: preview.count };
}

export const jobPages = new Hono<AdminEnv>();

jobPages.get("/", async (c) => {
  const requested = c.req.query("status") as StatusFilter | undefined;
  const status: StatusFilter = requested && STATUS_TABS.includes(requested) ? requested : "FAILED";
  const generator = queryValue(c, "generator");
  const cursor = queryValue(c, "cursor");
  const offered = offerFilter(status, generator);
  const data = await jobsPage(
    c.var.db,
    {
      status: status === "all" ? undefined : (status as JobStatus),
      generator,
      limit: PAGE_SIZE,
      cursor,
    },
    offered,
  );
  const { page, counts, generators, retryStates } = data;
  const offer = offered && canMutate(c) ? batchOffer(data.offer) : undefined;
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
      batchOffer={offer}
    />,
    { title: status === "FAILED" ? "Failed jobs" : "Jobs", section: "jobs" },
  );
});

jobPages.get("/jobs/:jobId", (c) => renderJob(c, c.req.param("jobId"), { notice: noticeOf(c) }));

jobPages.get("/jobs/:jobId/retry-intents", async (c) => {
  const { job, intents, createdJobs } = await jobIntents(c.var.db, c.req.param("jobId"));
  return c.render(<JobIntentsPage job={job} intents={intents} createdJobs={createdJobs} />, {
    title: `Retry intents of ${job.id}`,
    section: "jobs",
  });
});

/**
 * Records an intent from a job's page: a RETRY of a FAILED job (its form posts to
 * `retry-intents`) or a SUPERSEDE of a COMPLETED one (`supersede`), each with the corrected
 * input typed, if any. A refusal, the page's own (text that is not JSON) or the domain's, shows
 * the job's page again with the form as it was typed; nothing is written.
 */
async function recordIntent(c: AdminContext, kind: RetryIntentKind) {
  const jobId = c.req.param("jobId") ?? "";
  const body = await c.req.parseBody();
  const values = {
    reasonCode: field(body, "reasonCode"),
    reasonText: field(body, "reasonText"),
    overrideBudget: field(body, "overrideBudget") !== "",
    correctedInput: field(body, "correctedInput"),
  };
  try {
    const intent = await createRetryIntent(c.var.db, auditContext(c), {
      sourceJobId: jobId,
      kind,
      input: correctedInput(values.correctedInput),
      reasonCode: values.reasonCode as RetryReasonCode,
      reasonText: values.reasonText,
      overrideBudget: values.overrideBudget,
    });
    const notice = kind === "SUPERSEDE" ? "supersede-intent-created" : "intent-created";
    return c.redirect(`${intentHref(intent.id)}?notice=${notice}`, 303);
  } catch (error) {
    if (!isDomainError(error) || isCallerRefusal(error) || error.code === "JOB_NOT_FOUND") {
      throw error;
    }
    return renderJob(c, jobId, { form: { values, error } }, statusOf(error));
  }
}

jobPages.post("/jobs/:jobId/retry-intents", requireAdmin(), (c) => recordIntent(c, "RETRY"));

jobPages.post("/jobs/:jobId/supersede", requireAdmin(), (c) => recordIntent(c, "SUPERSEDE"));
