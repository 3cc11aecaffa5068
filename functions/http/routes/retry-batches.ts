import { z } from "@hono/zod-openapi";
import { DomainError } from "../../domain/errors";
import {
  createRetryBatchOnce,
  executeRetryBatch,
  listRetryBatches,
  previewRetryBatch,
  rejectRetryBatch,
  retryBatchDetail,
} from "../../domain/retry-batches";
import { auditContext } from "../caller";
import type { App } from "../env";
import { errorResponse } from "../errors";
import { idempotent } from "../idempotency";
import { errorResponses, securedRoute } from "../route";
import {
  BatchListQuery,
  CreateRetryBatchBody,
  DEFAULT_PAGE_SIZE,
  ID_PATTERN,
  IdempotencyHeaders,
  IdParams,
  PreviewRetryBatchBody,
  page,
  RejectRetryBatchBody,
  RetryBatchCountsSchema,
  RetryBatchIntentSchema,
  RetryBatchOutcomesSchema,
  RetryBatchPreviewSchema,
  RetryBatchSchema,
} from "../schemas";
import { batchIntentJson, batchJson, pageJson } from "../serialize";

/** Like the job and intent ids of lookup.ts: a path id of another shape is simply not found. */
function batchId(id: string): string {
  if (!ID_PATTERN.test(id)) {
    const shown = id.slice(0, 80);
    throw new DomainError("BATCH_NOT_FOUND", `no retry batch with id ${shown}`, {
      batchId: shown,
    });
  }
  return id;
}

const TAGS = ["retry batches"];

const previewRoute = securedRoute("admin", {
  operationId: "previewRetryBatch",
  method: "post",
  path: "/api/admin/retry-batches/preview",
  tags: TAGS,
  summary: "Which jobs a batch approved now would hold",
  description:
    "Reads only. Matches FAILED jobs not yet retried (kind RETRY, the default) or COMPLETED jobs not yet superseded (kind SUPERSEDE); leaves out, and counts, those whose chain used its retry budget (RETRY_BUDGET) and those an intent already waits for. Each job comes with its error code, message and failure time (`jobs`), and the jobs are counted per error code (`byErrorCode`). Pass `previewToken` to the approval: it names exactly this set. 409 BATCH_TOO_LARGE when the set is over RETRY_BATCH_MAX; for a RETRY preview its details split the filter into failure windows of at most RETRY_BATCH_MAX jobs each (`windows`: { failedAfter, failedBefore, count }, the first 10; `rest`: where the failures not split yet begin, or null).",
  request: {
    body: { required: true, content: { "application/json": { schema: PreviewRetryBatchBody } } },
  },
  responses: {
    200: {
      description: "the set a batch would hold, and what it leaves out",
      content: { "application/json": { schema: RetryBatchPreviewSchema } },
    },
    ...errorResponses(400, 401, 403, [409, "BATCH_TOO_LARGE"], 413, 415, 500),
  },
});

const createBatchRoute = securedRoute("admin", {
  operationId: "createRetryBatch",
  method: "post",
  path: "/api/admin/retry-batches",
  tags: TAGS,
  summary: "Approve a previewed set of jobs as one batch",
  description:
    "In one transaction: the batch and one PENDING intent per job of the preview, or per job of `jobIds` when the caller chose some of them (of the batch's `kind`: RETRY FAILED jobs, or SUPERSEDE COMPLETED ones with reason code BAD_INPUT, IMPROVED_PROMPT or OTHER; a corrected input is approved one job at a time, never by a batch), each with the batch's reason and the caller as approver. Frozen at approval: jobs that fail later never join. 409 BATCH_PREVIEW_STALE when the set differs from the preview's (details.count is the new size; preview again) or `jobIds` names a job it does not hold (details.outside), BATCH_EMPTY, BATCH_TOO_LARGE; nothing is written on any refusal. Accepts an Idempotency-Key header.",
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: CreateRetryBatchBody } } },
  },
  responses: {
    201: {
      description: "the batch and its intents were recorded",
      content: { "application/json": { schema: z.object({ batch: RetryBatchSchema }) } },
    },
    ...errorResponses(
      400,
      401,
      403,
      [409, "BATCH_PREVIEW_STALE", "BATCH_EMPTY", "BATCH_TOO_LARGE", "IDEMPOTENCY_KEY_REUSED"],
      413,
      415,
      500,
    ),
  },
});

const listBatchesRoute = securedRoute("viewer", {
  operationId: "listRetryBatches",
  method: "get",
  path: "/api/admin/retry-batches",
  tags: TAGS,
  summary: "List retry batches, newest first",
  request: { query: BatchListQuery },
  responses: {
    200: {
      description: "one page of batches",
      content: { "application/json": { schema: page(RetryBatchSchema) } },
    },
    ...errorResponses(400, 401, 403, 500),
  },
});

const getBatchRoute = securedRoute("viewer", {
  operationId: "getRetryBatch",
  method: "get",
  path: "/api/admin/retry-batches/{id}",
  tags: TAGS,
  summary: "A batch with its intents, each with the job it created, and what became of those jobs",
  request: { params: IdParams },
  responses: {
    200: {
      description:
        "the batch, its intents by status, the jobs they created by status, and its intents",
      content: {
        "application/json": {
          schema: z.object({
            batch: RetryBatchSchema,
            counts: RetryBatchCountsSchema,
            outcomes: RetryBatchOutcomesSchema,
            intents: z.array(RetryBatchIntentSchema),
          }),
        },
      },
    },
    ...errorResponses(401, 403, [404, "BATCH_NOT_FOUND"], 500),
  },
});

const executeBatchRoute = securedRoute("admin", {
  operationId: "executeRetryBatch",
  method: "post",
  path: "/api/admin/retry-batches/{id}/execute",
  tags: TAGS,
  summary: "Execute every PENDING, unexpired intent of a batch",
  description:
    "In one transaction each PENDING, unexpired intent is consumed and yields one new job, as a single intent's execute does. Safe to repeat: calls run one after another, and a later one creates nothing and reports every intent under `skipped` (consumed, rejected or expired). With REQUIRE_DISTINCT_EXECUTOR the batch's approver cannot execute it (403 FOUR_EYES_REQUIRED).",
  request: { params: IdParams },
  responses: {
    200: {
      description: "what this call created and what it skipped",
      content: {
        "application/json": {
          schema: z.object({
            batch: RetryBatchSchema,
            created: z.number().int().openapi({ description: "jobs this call created" }),
            skipped: z
              .object({
                consumed: z.number().int(),
                rejected: z.number().int(),
                expired: z.number().int(),
              })
              .openapi({ description: "intents of the batch this call did not execute, by why" }),
            counts: RetryBatchCountsSchema,
          }),
        },
      },
    },
    ...errorResponses(401, [403, "FORBIDDEN", "FOUR_EYES_REQUIRED"], [404, "BATCH_NOT_FOUND"], 500),
  },
});

const rejectBatchRoute = securedRoute("admin", {
  operationId: "rejectRetryBatch",
  method: "post",
  path: "/api/admin/retry-batches/{id}/reject",
  tags: TAGS,
  summary: "Reject every PENDING intent of a batch, with a reason",
  description: "Intents already consumed, rejected or expired stay as they are.",
  request: {
    params: IdParams,
    body: { required: true, content: { "application/json": { schema: RejectRetryBatchBody } } },
  },
  responses: {
    200: {
      description: "how many intents this call rejected",
      content: {
        "application/json": {
          schema: z.object({
            batch: RetryBatchSchema,
            rejected: z.number().int(),
            counts: RetryBatchCountsSchema,
          }),
        },
      },
    },
    ...errorResponses(400, 401, 403, [404, "BATCH_NOT_FOUND"], 413, 415, 500),
  },
});

export function registerRetryBatchRoutes(app: App): void {
  // `preview` is a path of its own, not a batch's id: any other method than POST is answered
  // as a method not allowed here (405, `Allow: POST`), before the batch routes could take the
  // word for an id. Registered for every method, it stays out of the 405 answers' own index.
  app.all("/api/admin/retry-batches/preview", async (c, next) => {
    if (c.req.method === "POST") return next();
    c.header("Allow", "POST");
    return errorResponse(
      c,
      new DomainError("METHOD_NOT_ALLOWED", `${c.req.method.slice(0, 20)} is not allowed here`, {
        allowed: ["POST"],
      }),
    );
  });

  app.openapi(previewRoute, async (c) => {
    const { filter, kind } = c.req.valid("json");
    const preview = await previewRetryBatch(c.var.db, filter, kind);
    return c.json(preview, 200);
  });

  app.openapi(createBatchRoute, async (c) => {
    const body = c.req.valid("json");
    const result = await idempotent(
      c,
      { key: c.req.valid("header")["idempotency-key"], body, status: 201 },
      (key) => createRetryBatchOnce(c.var.db, auditContext(c), body, key),
      (batch) => ({ batch: batchJson(batch) }),
    );
    return c.json(result, 201);
  });

  app.openapi(listBatchesRoute, async (c) => {
    const query = c.req.valid("query");
    const result = await listRetryBatches(c.var.db, {
      ...query,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
    });
    return c.json(pageJson(result, batchJson), 200);
  });

  app.openapi(getBatchRoute, async (c) => {
    const { batch, counts, outcomes, intents } = await retryBatchDetail(
      c.var.db,
      batchId(c.req.valid("param").id),
    );
    return c.json(
      {
        batch: batchJson(batch),
        counts,
        outcomes,
        // The intents as their schema shows them; their jobs' statuses are counted in `outcomes`.
        intents: intents.map(({ resultingJobStatus: _, ...intent }) => batchIntentJson(intent)),
      },
      200,
    );
  });

  app.openapi(executeBatchRoute, async (c) => {
    const id = batchId(c.req.valid("param").id);
    const { batch, created, skipped, counts } = await executeRetryBatch(
      c.var.db,
      auditContext(c),
      id,
    );
    return c.json({ batch: batchJson(batch), created, skipped, counts }, 200);
  });

  app.openapi(rejectBatchRoute, async (c) => {
    const id = batchId(c.req.valid("param").id);
    const { reasonText } = c.req.valid("json");
    const { batch, rejected, counts } = await rejectRetryBatch(
      c.var.db,
      auditContext(c),
      id,
      reasonText,
    );
    return c.json({ batch: batchJson(batch), rejected, counts }, 200);
  });
}
