import { z } from "@hono/zod-openapi";
import type { InputSchemas } from "../../domain/generators";
import { intentDetail } from "../../domain/read-models";
import {
  createRetryIntentOnce,
  listRetryIntents,
  rejectRetryIntent,
} from "../../domain/retry-intents";
import { createRetryJobFromIntentOnce } from "../../domain/retry-service";
import { auditContext } from "../caller";
import type { App } from "../env";
import { idempotent } from "../idempotency";
import { intentId } from "../lookup";
import { errorResponses, securedRoute } from "../route";
import {
  AuditEventSchema,
  CreateRetryIntentBody,
  DEFAULT_PAGE_SIZE,
  GeneratorVersionsSchema,
  IdempotencyHeaders,
  IdParams,
  IntentListQuery,
  JobSchema,
  orNull,
  page,
  RejectRetryIntentBody,
  RetryIntentSchema,
} from "../schemas";
import { auditEventJson, intentJson, jobJson, pageJson } from "../serialize";

const intentBody = z.object({ intent: RetryIntentSchema });

const createIntentRoute = securedRoute("admin", {
  operationId: "createRetryIntent",
  method: "post",
  path: "/api/admin/retry-intents",
  tags: ["retry intents"],
  summary: "Approve retrying a FAILED job",
  description:
    "Records a PENDING RetryIntent with the caller as approver, executable for `expiresInHours` (default INTENT_TTL_HOURS). `kind` RETRY (the default) is for a FAILED job, SUPERSEDE for a COMPLETED one (409 JOB_NOT_COMPLETED otherwise; reason code BAD_INPUT, IMPROVED_PROMPT or OTHER, else 400). `input` is a corrected input for the new job, only with those reason codes (else 400), checked against the current input schema of the source's generator (400 VALIDATION_FAILED naming the paths). 409 JOB_NOT_FAILED, INTENT_ALREADY_PENDING, JOB_ALREADY_RETRIED (details.retryJobId names the retry) or RETRY_BUDGET_EXHAUSTED when the job's chain used its RETRY_BUDGET retries (details jobId, depth, budget); `overrideBudget: true` approves past the budget, with reason code OTHER only. Accepts an Idempotency-Key header.",
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: CreateRetryIntentBody } } },
  },
  responses: {
    201: {
      description: "the intent was recorded",
      content: { "application/json": { schema: intentBody } },
    },
    ...errorResponses(
      400,
      401,
      403,
      [404, "JOB_NOT_FOUND"],
      [
        409,
        "JOB_NOT_FAILED",
        "JOB_NOT_COMPLETED",
        "INTENT_ALREADY_PENDING",
        "JOB_ALREADY_RETRIED",
        "RETRY_BUDGET_EXHAUSTED",
        "IDEMPOTENCY_KEY_REUSED",
      ],
      413,
      415,
      500,
    ),
  },
});

const listIntentsRoute = securedRoute("viewer", {
  operationId: "listRetryIntents",
  method: "get",
  path: "/api/admin/retry-intents",
  tags: ["retry intents"],
  summary: "List retry intents, newest first",
  request: { query: IntentListQuery },
  responses: {
    200: {
      description: "one page of intents",
      content: { "application/json": { schema: page(RetryIntentSchema) } },
    },
    ...errorResponses(400, 401, 403, 500),
  },
});

const getIntentRoute = securedRoute("viewer", {
  operationId: "getRetryIntent",
  method: "get",
  path: "/api/admin/retry-intents/{id}",
  tags: ["retry intents"],
  summary:
    "An intent with its source job, the job it created, its audit trail, and the generator versions",
  request: { params: IdParams },
  responses: {
    200: {
      description: "the intent in context",
      content: {
        "application/json": {
          schema: z.object({
            intent: RetryIntentSchema,
            sourceJob: JobSchema,
            resultingJob: orNull(JobSchema),
            audit: z.array(AuditEventSchema),
            versions: GeneratorVersionsSchema,
          }),
        },
      },
    },
    ...errorResponses(401, 403, 404, 500),
  },
});

const executeIntentRoute = securedRoute("admin", {
  operationId: "executeRetryIntent",
  method: "post",
  path: "/api/admin/retry-intents/{id}/execute",
  tags: ["retry intents"],
  summary: "Execute a PENDING intent: consume it and create the retry job",
  description:
    "In one transaction the intent becomes CONSUMED and a new PENDING job is created, linked to the failed one. Of concurrent executes exactly one succeeds; the others get 409 INTENT_NOT_PENDING with details.jobId. An intent past its `expiresAt` is 409 INTENT_EXPIRED and stays as it is. With REQUIRE_DISTINCT_EXECUTOR, the approver cannot execute (403 FOUR_EYES_REQUIRED). Accepts an Idempotency-Key header.",
  request: { params: IdParams, headers: IdempotencyHeaders },
  responses: {
    201: {
      description: "the intent was consumed and the retry job created",
      content: {
        "application/json": { schema: z.object({ intent: RetryIntentSchema, job: JobSchema }) },
      },
    },
    ...errorResponses(
      401,
      [403, "FORBIDDEN", "FOUR_EYES_REQUIRED"],
      [404, "INTENT_NOT_FOUND"],
      [
        409,
        "INTENT_NOT_PENDING",
        "INTENT_EXPIRED",
        "JOB_ALREADY_RETRIED",
        "IDEMPOTENCY_KEY_REUSED",
      ],
      500,
    ),
  },
});

const rejectIntentRoute = securedRoute("admin", {
  operationId: "rejectRetryIntent",
  method: "post",
  path: "/api/admin/retry-intents/{id}/reject",
  tags: ["retry intents"],
  summary: "Decline a PENDING intent, with a reason",
  request: {
    params: IdParams,
    body: { required: true, content: { "application/json": { schema: RejectRetryIntentBody } } },
  },
  responses: {
    200: {
      description: "the intent is REJECTED",
      content: { "application/json": { schema: intentBody } },
    },
    ...errorResponses(400, 401, 403, 404, 409, 413, 415, 500),
  },
});

export function registerRetryIntentRoutes(app: App, inputSchemas: InputSchemas): void {
  app.openapi(createIntentRoute, async (c) => {
    const body = c.req.valid("json");
    const result = await idempotent(
      c,
      { key: c.req.valid("header")["idempotency-key"], body, status: 201 },
      (key) => createRetryIntentOnce(c.var.db, auditContext(c), body, key, inputSchemas),
      (intent) => ({ intent: intentJson(intent) }),
    );
    return c.json(result, 201);
  });

  app.openapi(listIntentsRoute, async (c) => {
    const query = c.req.valid("query");
    const result = await listRetryIntents(c.var.db, {
      ...query,
      limit: query.limit ?? DEFAULT_PAGE_SIZE,
    });
    return c.json(pageJson(result, intentJson), 200);
  });

  app.openapi(getIntentRoute, async (c) => {
    const { intent, sourceJob, resultingJob, audit, versions } = await intentDetail(
      c.var.db,
      intentId(c.req.valid("param").id),
    );
    return c.json(
      {
        intent: intentJson(intent),
        sourceJob: jobJson(sourceJob),
        resultingJob: resultingJob ? jobJson(resultingJob) : null,
        audit: audit.map(auditEventJson),
        versions,
      },
      200,
    );
  });

  app.openapi(executeIntentRoute, async (c) => {
    const id = intentId(c.req.valid("param").id);
    const result = await idempotent(
      c,
      { key: c.req.valid("header")["idempotency-key"], body: null, status: 201 },
      (key) => createRetryJobFromIntentOnce(c.var.db, auditContext(c), id, key),
      ({ intent, job }) => ({ intent: intentJson(intent), job: jobJson(job) }),
    );
    return c.json(result, 201);
  });

  app.openapi(rejectIntentRoute, async (c) => {
    const id = intentId(c.req.valid("param").id);
    const { reasonText } = c.req.valid("json");
    const intent = await rejectRetryIntent(c.var.db, auditContext(c), id, reasonText);
    return c.json({ intent: intentJson(intent) }, 200);
  });
}
