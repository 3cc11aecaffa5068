/**
 * Retry batches: previewing a filter (or, past a batch's size, its split by failure time),
 * approving exactly the previewed set or the jobs checked in it, the list, one batch (which
 * refreshes itself while the jobs it created run), its execution (behind a confirmation that
 * names the number of jobs) and its rejection.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { RetryReasonCode } from "../../db/schema";
import { type DomainError, isDomainError } from "../../functions/domain/errors";
import { batchesPage, batchPreviewPage } from "../../functions/domain/read-models";
import { refusal } from "../../functions/domain/refusals";
import {
  type BatchDetail,
  type BatchFilter,
  type BatchPreview,
  createRetryBatch,
  executeRetryBatch,
  failureWindowsOf,
  normaliseFilter,
  previewFrom,
  rejectRetryBatch,
  retryBatchDetail,
  unfinished,
} from "../../functions/domain/retry-batches";
import { isCallerRefusal } from "../../functions/http/auth";
import { auditContext } from "../../functions/http/caller";
import { filterFrom } from "../batch-filter";
import { type AdminContext, type AdminEnv, canMutate } from "../context";
import { batchHref, field, noticeOf, queryValue, statusOf } from "../forms";
import { requireAdmin } from "../middleware";
import { BatchExecutePage } from "../pages/batch-execute-page";
import { BatchPage, type BatchPageData, type BatchPageView, executable } from "../pages/batch-page";
import { BatchPreviewPage } from "../pages/batch-preview-page";
import { BatchesPage } from "../pages/batches-page";

const PAGE_SIZE = 50;

/** Seconds between a batch page's reloads while the jobs it created run. */
export const BATCH_REFRESH_SECONDS = 5;

/** The facts executeRetryBatch records in its RETRY_BATCH_EXECUTED event. */
interface ExecutedFacts {
  created?: number;
  skipped?: { consumed?: number; rejected?: number; expired?: number };
}

interface ReasonValues {
  reasonCode?: string | undefined;
  reasonText?: string | undefined;
  /** The jobs checked, when the approval came from the page's checkboxes. */
  jobIds?: string[] | undefined;
}

/** Every value a form sent under `name` (a checkbox list sends one per checked box). */
function allOf(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v): v is string => typeof v === "string");
}

/**
 * The preview of `input` as the database stands now. A refusal of the filter itself
 * (VALIDATION_FAILED, BATCH_TOO_LARGE) is shown on the page with its status, beside any refusal
 * the caller brings (a stale token, say), so the admin sees what is true now and can narrow it.
 */
async function renderPreview(
  c: AdminContext,
  input: BatchFilter,
  extra: { error?: DomainError | undefined; values?: ReasonValues } = {},
  status: ContentfulStatusCode = 200,
) {
  let filter = input;
  let preview: BatchPreview | undefined;
  let refusal: DomainError | undefined;
  let valid: BatchFilter | undefined;
  try {
    valid = normaliseFilter(input);
    filter = valid;
  } catch (error) {
    if (!isDomainError(error)) throw error;
    refusal = error;
  }
  const page = await batchPreviewPage(c.var.db, valid);
  if (page.preview) {
    try {
      preview = previewFrom(page.preview);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      refusal = error;
    }
  }
  const error = extra.error ?? refusal;
  c.status(extra.error ? status : refusal ? statusOf(refusal) : status);
  return c.render(
    <BatchPreviewPage
      filter={filter}
      generators={page.generators}
      errorCodes={page.errorCodes}
      preview={preview}
      windows={failureWindowsOf(refusal)}
      error={error}
      followUp={extra.error && refusal ? refusal : undefined}
      canMutate={canMutate(c)}
      values={extra.values}
      retryBudget={c.var.policy.retryBudget}
      retryBatchMax={c.var.policy.retryBatchMax}
      intentTtlHours={c.var.policy.intentTtlHours}
    />,
    { title: "New retry batch", section: "batches" },
  );
}

/**
 * The four-eyes refusal this admin would meet executing the batch: the database names who its
 * rule keeps out (`excludedExecutor`, read with the batch); worded as the API's.
 */
function fourEyesRefusal(c: AdminContext, data: BatchDetail) {
  if (data.excludedExecutor === null || data.excludedExecutor !== c.var.principal.actor)
    return null;
  const { batch } = data;
  return refusal("FOUR_EYES_REQUIRED", { batchId: batch.id, approvedBy: batch.approvedBy });
}

/**
 * What the last execution or rejection did, read back from the batch's own audit event rather
 * than from the redirect, so a crafted link cannot make the page claim anything.
 */
function outcomeNotice(c: AdminContext, data: BatchPageData): string | undefined {
  const key = c.req.query("notice");
  const latest = (type: string) => data.audit.findLast((e) => e.type === type)?.data;
  if (key === "batch-executed") {
    const run = latest("RETRY_BATCH_EXECUTED") as ExecutedFacts | undefined;
    if (!run) return undefined;
    const created = run.created ?? 0;
    const { consumed = 0, rejected = 0, expired = 0 } = run.skipped ?? {};
    const skipped = consumed + rejected + expired;
    return `Batch executed: ${created} new regeneration ${created === 1 ? "job" : "jobs"} created, ${skipped} skipped (${consumed} already executed, ${rejected} rejected, ${expired} expired). The worker runs the new jobs like any other; the failed jobs are unchanged.`;
  }
  if (key === "batch-rejected") {
    const rejection = latest("RETRY_BATCH_REJECTED") as { rejected?: number } | undefined;
    if (!rejection) return undefined;
    const n = rejection.rejected ?? 0;
    return `Batch rejected: ${n} pending ${n === 1 ? "intent" : "intents"} rejected. The jobs can still be retried through new intents.`;
  }
  return noticeOf(c);
}

async function loadBatch(c: AdminContext, id: string): Promise<BatchPageData> {
  return retryBatchDetail(c.var.db, id, { audit: true });
}

/**
 * Whether a batch page reads itself again: while jobs the batch created are pending or running,
 * so the admin watches them finish without a script, but not while it holds the reject form
 * for this admin, where a reload would lose a reason being typed.
 */
function refreshes(c: AdminContext, data: BatchPageData): boolean {
  return unfinished(data.outcomes) > 0 && !(canMutate(c) && data.counts.pending > 0);
}

/**
 * The batch page. With `live` (the page as read, not an answer to a form), a Refresh header
 * reloads it every few seconds while `refreshes` says so.
 */
async function renderBatch(
  c: AdminContext,
  id: string,
  view: Partial<BatchPageView>,
  status: ContentfulStatusCode = 200,
  live = false,
) {
  const data = await loadBatch(c, id);
  const refresh = live && refreshes(c, data);
  if (refresh) c.header("Refresh", String(BATCH_REFRESH_SECONDS));
  c.status(status);
  return c.render(
    <BatchPage
      data={data}
      view={{
        canMutate: canMutate(c),
        fourEyesBlocked: fourEyesRefusal(c, data) !== null,
        notice: outcomeNotice(c, data),
        refreshSeconds: refresh ? BATCH_REFRESH_SECONDS : undefined,
        ...view,
      }}
    />,
    { title: `Batch ${id}`, section: "batches" },
  );
}

export const batchPages = new Hono<AdminEnv>();

batchPages.get("/", async (c) => {
  const cursor = queryValue(c, "cursor");
  const { page, counts } = await batchesPage(c.var.db, { limit: PAGE_SIZE, cursor });
  const batches = page.items.map((batch, i) => ({
    batch,
    counts: counts[i] ?? { pending: 0, consumed: 0, rejected: 0 },
  }));
  return c.render(
    <BatchesPage
      batches={batches}
      nextCursor={page.nextCursor}
      paged={Boolean(cursor)}
      canMutate={canMutate(c)}
    />,
    { title: "Retry batches", section: "batches" },
  );
});

batchPages.get("/new", (c) =>
  renderPreview(
    c,
    filterFrom((name) => c.req.query(name)),
  ),
);

batchPages.post("/", requireAdmin(), async (c) => {
  const body = await c.req.parseBody({ all: true });
  const filter = filterFrom((name) => field(body, name));
  const values = {
    reasonCode: field(body, "reasonCode"),
    reasonText: field(body, "reasonText"),
    // The page's approve button says the jobs come from its checkboxes, so none checked is
    // an empty choice, refused, not the whole set.
    jobIds: field(body, "selection") === "checked" ? allOf(body, "jobIds") : undefined,
  };
  try {
    const batch = await createRetryBatch(c.var.db, auditContext(c), {
      filter,
      previewToken: field(body, "previewToken"),
      jobIds: values.jobIds,
      reasonCode: values.reasonCode as RetryReasonCode,
      reasonText: values.reasonText,
    });
    return c.redirect(`${batchHref(batch.id)}?notice=batch-created`, 303);
  } catch (error) {
    if (!isDomainError(error) || isCallerRefusal(error)) throw error;
    return renderPreview(c, filter, { error, values }, statusOf(error));
  }
});

batchPages.get("/:id", (c) => renderBatch(c, c.req.param("id"), {}, 200, true));

batchPages.get("/:id/execute", requireAdmin(), async (c) => {
  const data = await retryBatchDetail(c.var.db, c.req.param("id"));
  const { batch } = data;
  const { ready, expired } = executable(data, c.var.databaseNow);
  if (ready === 0) {
    const message =
      data.counts.pending === 0
        ? "Nothing to execute: every intent of this batch has been executed or rejected."
        : "Nothing to execute: every pending intent of this batch has expired.";
    return renderBatch(c, batch.id, { message }, 409);
  }
  const fourEyes = fourEyesRefusal(c, data);
  if (fourEyes) return renderBatch(c, batch.id, { error: fourEyes }, statusOf(fourEyes));
  return c.render(<BatchExecutePage batch={batch} ready={ready} expired={expired} />, {
    title: "Execute retry batch",
    section: "batches",
  });
});

batchPages.post("/:id/execute", requireAdmin(), async (c) => {
  const id = c.req.param("id");
  try {
    await executeRetryBatch(c.var.db, auditContext(c), id);
    return c.redirect(`${batchHref(id)}?notice=batch-executed`, 303);
  } catch (error) {
    if (!isDomainError(error) || isCallerRefusal(error) || error.code === "BATCH_NOT_FOUND") {
      throw error;
    }
    return renderBatch(c, id, { error }, statusOf(error));
  }
});

/**
 * Rejects a batch's pending intents with the reason typed. The batch page's reject form posts
 * to the page's own address, so that a refusal comes back there: the page again, with the
 * refusal beside the form, focused, and the reason as it was typed; nothing is written. A
 * request to the older address (`/reject`) is answered the same.
 */
async function rejectBatch(c: AdminContext) {
  const id = c.req.param("id") ?? "";
  const body = await c.req.parseBody();
  const text = field(body, "reasonText");
  try {
    await rejectRetryBatch(c.var.db, auditContext(c), id, text);
    return c.redirect(`${batchHref(id)}?notice=batch-rejected`, 303);
  } catch (error) {
    if (!isDomainError(error) || isCallerRefusal(error) || error.code === "BATCH_NOT_FOUND") {
      throw error;
    }
    return renderBatch(c, id, { rejectError: error, rejectText: text }, statusOf(error));
  }
}

batchPages.post("/:id", requireAdmin(), rejectBatch);

batchPages.post("/:id/reject", requireAdmin(), rejectBatch);
