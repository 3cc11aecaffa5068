/**
 * The jobs list (the admin page's home: what needs a decision, and a search by id), a job's
 * page with its forms, and a job's retry intents.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { RetryIntentKind, RetryReasonCode } from "../../db/schema";
import { DomainError, isDomainError } from "../../functions/domain/errors";
import {
  jobDetail,
  jobFilterChoices,
  jobIntents,
  jobsPage,
} from "../../functions/domain/read-models";
import type { PreviewAnswer } from "../../functions/domain/retry-batches";
import { normaliseFilter } from "../../functions/domain/retry-batches";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { isCallerRefusal } from "../../functions/http/auth";
import { auditContext } from "../../functions/http/caller";
import { filterFrom } from "../batch-filter";
import { type AdminContext, type AdminEnv, canMutate } from "../context";
import { correctedInput, field, intentHref, noticeOf, queryValue, statusOf } from "../forms";
import { requireAdmin } from "../middleware";
import { JobIntentsPage } from "../pages/job-intents-page";
import { type JobForm, JobPage, type JobPageData } from "../pages/job-page";
import {
  type BatchOffer,
  JOB_TABS,
  JobsPage,
  type JobsTab,
  type ListFilter,
} from "../pages/jobs-page";
import { proveSignIn } from "../sign-in";
import { searchIds } from "./search";

const PAGE_SIZE = 50;

async function loadJob(c: AdminContext, jobId: string): Promise<JobPageData> {
  const detail = await jobDetail(c.var.db, jobId, {
    audit: true,
    latestOutput: true,
    nearbyFailures: true,
  });
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
 * How many of the failures listed one retry batch would take now, for the list's "Retry these N
 * jobs" action: the preview's own count, so the button never names a number the preview page
 * then contradicts. On a page everyone opens first the preview is read (in the page's one
 * statement) only while the failures a batch takes from are at most a batch's worth, and past
 * that (`preview` null), or when a batch would be too large, the button leaves the counting to
 * the preview page.
 */
function batchOffer(preview: PreviewAnswer | null): BatchOffer {
  return preview === null || preview.refusal ? {} : { count: preview.count };
}

const refused = (field: string, message: string) =>
  new DomainError("VALIDATION_FAILED", message, { field });

/**
 * The tab a list's query names: none, or `open=1`, is what needs a decision; `status` names
 * another. Anything else is refused rather than read as the default.
 */
function tabOf(c: AdminContext): JobsTab {
  const open = c.req.query("open");
  const status = c.req.query("status");
  if (open !== undefined && open !== "1" && open !== "true") {
    throw refused(
      "open",
      "open=1 lists the failures that need a decision; it takes no other value",
    );
  }
  if (status === undefined) return "open";
  if (open !== undefined) {
    throw refused("status", "open=1 and status name two different lists: choose one of them");
  }
  const tab = JOB_TABS.find((t) => t === status && t !== "open");
  if (!tab) {
    throw refused("status", `status must be one of ${JOB_TABS.slice(1).join(", ")}`);
  }
  return tab;
}

/**
 * The list's address without its empty parameters, when it has some (a GET form sends every
 * field, the empty ones too); undefined when it has none.
 */
function withoutEmptyParameters(c: AdminContext): string | undefined {
  const params = new URL(c.req.url).searchParams;
  const kept = [...params].filter(([, value]) => value !== "");
  if (kept.length === [...params].length) return undefined;
  const query = new URLSearchParams(kept).toString();
  return query ? `${c.req.path}?${query}` : c.req.path;
}

/** The list's filter refused: the form as it was typed, with why, beside it; nothing listed. */
async function renderRefusedList(
  c: AdminContext,
  tab: JobsTab,
  typed: ListFilter,
  error: DomainError,
) {
  const { generators, errorCodes } = await jobFilterChoices(c.var.db);
  c.status(statusOf(error));
  return c.render(
    <JobsPage
      tab={tab}
      filter={typed}
      generators={generators}
      errorCodes={errorCodes}
      counts={{ PENDING: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0 }}
      open={0}
      jobs={[]}
      nextCursor={null}
      paged={false}
      retryStates={new Map()}
      error={error}
    />,
    { title: "Jobs", section: "jobs" },
  );
}

export const jobPages = new Hono<AdminEnv>();

jobPages.get("/", async (c) => {
  const q = c.req.query("q");
  if (q !== undefined && q !== "") return searchIds(c, q);
  const canonical = withoutEmptyParameters(c);
  if (canonical !== undefined) {
    await proveSignIn(c);
    return c.redirect(canonical, 303);
  }
  const typed = filterFrom((name) => c.req.query(name));
  let tab: JobsTab = "open";
  let filter: ListFilter;
  try {
    tab = tabOf(c);
    filter = normaliseFilter(typed);
  } catch (error) {
    if (!isDomainError(error) || error.code !== "VALIDATION_FAILED") throw error;
    return renderRefusedList(c, tab, typed, error);
  }
  const cursor = queryValue(c, "cursor");
  // The failures a batch can take: offered on the tabs that list failures, for their filter.
  const offered = tab === "open" || tab === "FAILED" ? filter : undefined;
  const data = await jobsPage(
    c.var.db,
    {
      status: tab === "open" || tab === "all" ? undefined : tab,
      open: tab === "open" ? true : undefined,
      ...filter,
      limit: PAGE_SIZE,
      cursor,
    },
    offered,
  );
  const offer = offered && canMutate(c) ? batchOffer(data.offer) : undefined;
  return c.render(
    <JobsPage
      tab={tab}
      filter={filter}
      generators={data.generators}
      errorCodes={data.errorCodes}
      counts={data.counts}
      open={data.open}
      jobs={data.page.items}
      nextCursor={data.page.nextCursor}
      paged={Boolean(cursor)}
      retryStates={data.retryStates}
      batchOffer={offer}
    />,
    {
      title: tab === "open" ? "Needs a decision" : tab === "FAILED" ? "Failed jobs" : "Jobs",
      section: "jobs",
    },
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
 * Records an intent from a job's page: a RETRY of a FAILED job or a SUPERSEDE of a COMPLETED
 * one, each with the corrected input typed, if any. The forms post to the job's own address,
 * naming their kind, so that a refusal (the page's own, text that is not JSON, or the domain's)
 * comes back at the address the admin was on: the job's page again, with the refusal beside the
 * form, focused, and the form as it was typed; nothing is written. A request to the older
 * addresses (`retry-intents`, `supersede`, which name the kind themselves) is answered the same.
 */
async function recordIntent(c: AdminContext, named?: RetryIntentKind) {
  const jobId = c.req.param("jobId") ?? "";
  const body = await c.req.parseBody();
  const values = {
    reasonCode: field(body, "reasonCode"),
    reasonText: field(body, "reasonText"),
    overrideBudget: field(body, "overrideBudget") !== "",
    correctedInput: field(body, "correctedInput"),
  };
  try {
    const kind = named ?? kindOf(field(body, "kind"));
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

/** The kind a job page's form names; a form that names none is a retry's. */
function kindOf(value: string): RetryIntentKind {
  if (value === "" || value === "RETRY") return "RETRY";
  if (value === "SUPERSEDE") return "SUPERSEDE";
  throw refused("kind", "the form names no kind of intent this page records (RETRY or SUPERSEDE)");
}

jobPages.post("/jobs/:jobId", requireAdmin(), (c) => recordIntent(c));

jobPages.post("/jobs/:jobId/retry-intents", requireAdmin(), (c) => recordIntent(c, "RETRY"));

jobPages.post("/jobs/:jobId/supersede", requireAdmin(), (c) => recordIntent(c, "SUPERSEDE"));
