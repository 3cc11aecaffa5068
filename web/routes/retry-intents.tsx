/** Retry intents: the list, one intent, its execution (with a confirmation step) and rejection. */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { RetryIntentStatus } from "../../db/schema";
import { DomainError, isDomainError } from "../../functions/domain/errors";
import { type IntentDetail, intentDetail, intentsPage } from "../../functions/domain/read-models";
import { refusal } from "../../functions/domain/refusals";
import { intentExpired, rejectRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { isCallerRefusal } from "../../functions/http/auth";
import { auditContext } from "../../functions/http/caller";
import { hasExpired } from "../components/time";
import { type AdminContext, type AdminEnv, canMutate } from "../context";
import { field, intentHref, jobHref, noticeOf, queryValue, statusOf } from "../forms";
import { requireAdmin } from "../middleware";
import { ExecutePage } from "../pages/execute-page";
import { IntentPage, type IntentPageView } from "../pages/intent-page";
import { INTENT_TABS, type IntentFilter, IntentsPage } from "../pages/intents-page";

const PAGE_SIZE = 50;

/**
 * The four-eyes refusal this admin would meet executing the intent: the database names who its
 * rule keeps out (`excludedExecutor`, read with the intent); worded as the API's.
 */
function fourEyesRefusal(c: AdminContext, data: IntentDetail): DomainError | null {
  if (data.excludedExecutor === null || data.excludedExecutor !== c.var.principal.actor)
    return null;
  const { intent } = data;
  return refusal("FOUR_EYES_REQUIRED", { intentId: intent.id, approvedBy: intent.approvedBy });
}

async function renderIntent(
  c: AdminContext,
  id: string,
  view: Partial<IntentPageView>,
  status: ContentfulStatusCode = 200,
) {
  const data = await intentDetail(c.var.db, id);
  c.status(status);
  return c.render(
    <IntentPage
      data={data}
      view={{
        canMutate: canMutate(c),
        fourEyesBlocked: fourEyesRefusal(c, data) !== null,
        ...view,
      }}
    />,
    { title: `Intent ${id}`, section: "intents" },
  );
}

export const intentPages = new Hono<AdminEnv>();

intentPages.get("/", async (c) => {
  const requested = c.req.query("status") as IntentFilter | undefined;
  const status: IntentFilter = requested && INTENT_TABS.includes(requested) ? requested : "PENDING";
  const cursor = queryValue(c, "cursor");
  const { page, createdJobs } = await intentsPage(c.var.db, {
    status: status === "all" ? undefined : (status as RetryIntentStatus),
    limit: PAGE_SIZE,
    cursor,
  });
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

intentPages.get("/:id", (c) => renderIntent(c, c.req.param("id"), { notice: noticeOf(c) }));

intentPages.get("/:id/execute", requireAdmin(), async (c) => {
  const data = await intentDetail(c.var.db, c.req.param("id"));
  const { intent } = data;
  if (intent.status !== "PENDING") {
    const error = new DomainError(
      "INTENT_NOT_PENDING",
      `retry intent ${intent.id} is ${intent.status}, not PENDING`,
      { intentId: intent.id, status: intent.status, jobId: data.resultingJob?.id },
    );
    return renderIntent(c, intent.id, { error }, 409);
  }
  if (hasExpired(intent, c.var.databaseNow)) {
    const error = intentExpired(intent);
    return renderIntent(c, intent.id, { error }, statusOf(error));
  }
  const fourEyes = fourEyesRefusal(c, data);
  if (fourEyes) return renderIntent(c, intent.id, { error: fourEyes }, statusOf(fourEyes));
  return c.render(
    <ExecutePage intent={intent} sourceJob={data.sourceJob} versions={data.versions} />,
    {
      title: intent.kind === "SUPERSEDE" ? "Execute supersede intent" : "Execute retry intent",
      section: "intents",
    },
  );
});

intentPages.post("/:id/execute", requireAdmin(), async (c) => {
  const id = c.req.param("id");
  try {
    const { intent, job } = await createRetryJobFromIntent(c.var.db, auditContext(c), id);
    const notice = intent.kind === "SUPERSEDE" ? "supersede-created" : "retry-created";
    return c.redirect(`${jobHref(job.id)}?notice=${notice}`, 303);
  } catch (error) {
    if (!isDomainError(error) || isCallerRefusal(error) || error.code === "INTENT_NOT_FOUND") {
      throw error;
    }
    return renderIntent(c, id, { error }, statusOf(error));
  }
});

/**
 * Rejects an intent with the reason typed. The intent page's form posts to the page's own
 * address, so that a refusal comes back there: the page again, with the refusal beside the
 * form, focused, and the reason as it was typed; nothing is written. A request to the older
 * address (`/reject`) is answered the same.
 */
async function rejectIntent(c: AdminContext) {
  const id = c.req.param("id") ?? "";
  const body = await c.req.parseBody();
  const text = field(body, "reasonText");
  try {
    await rejectRetryIntent(c.var.db, auditContext(c), id, text);
    return c.redirect(`${intentHref(id)}?notice=intent-rejected`, 303);
  } catch (error) {
    if (!isDomainError(error) || isCallerRefusal(error) || error.code === "INTENT_NOT_FOUND") {
      throw error;
    }
    return renderIntent(c, id, { rejectError: error, rejectText: text }, statusOf(error));
  }
}

intentPages.post("/:id", requireAdmin(), rejectIntent);

intentPages.post("/:id/reject", requireAdmin(), rejectIntent);
