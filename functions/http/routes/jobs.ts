import { z } from "@hono/zod-openapi";
import { DomainError } from "../../domain/errors";
import type { InputSchemas } from "../../domain/generators";
import { submitJobOnce } from "../../domain/jobs";
import { jobWithOutput } from "../../domain/read-models";
import { auditContext } from "../caller";
import type { App } from "../env";
import { idempotent } from "../idempotency";
import { jobId } from "../lookup";
import { hasRole } from "../principal";
import { errorResponses, securedRoute } from "../route";
import {
  IdempotencyHeaders,
  IdParams,
  JobSchema,
  LatestJobSchema,
  OutputSchema,
  orNull,
  SubmitJobBody,
} from "../schemas";
import { jobJson, outputJson } from "../serialize";

const submitJobRoute = securedRoute("submitter", {
  operationId: "submitJob",
  method: "post",
  path: "/api/jobs",
  tags: ["jobs"],
  summary: "Submit a regeneration job",
  description:
    "Creates a PENDING job that the worker will run once. The generator must be in the catalog (400 UNKNOWN_GENERATOR; GET /api/admin/generators lists them) and the input must match its current input schema (400 VALIDATION_FAILED, details.issues naming each path); nothing is written otherwise. A paused generator's jobs are accepted and wait. Accepts an Idempotency-Key header.",
  request: {
    headers: IdempotencyHeaders,
    body: { required: true, content: { "application/json": { schema: SubmitJobBody } } },
  },
  responses: {
    201: {
      description: "the job was created",
      content: { "application/json": { schema: z.object({ job: JobSchema }) } },
    },
    ...errorResponses(
      [400, "VALIDATION_FAILED", "UNKNOWN_GENERATOR"],
      401,
      403,
      [409, "IDEMPOTENCY_KEY_REUSED"],
      413,
      415,
      500,
    ),
  },
});

const getOwnJobRoute = securedRoute("submitter", {
  operationId: "getOwnJob",
  method: "get",
  path: "/api/jobs/{id}",
  tags: ["jobs"],
  summary: "Read a job you submitted, with its output and where its chain has got to",
  description:
    "A submitter sees the jobs it created and their successors (retries and supersessions an admin approved); any other id is 404 JOB_NOT_FOUND. `latest` names the newest job of the chain: follow it to the current output.",
  request: { params: IdParams },
  responses: {
    200: {
      description: "the job and its output (null until it COMPLETED)",
      content: {
        "application/json": {
          schema: z.object({
            job: JobSchema,
            output: orNull(OutputSchema),
            latest: LatestJobSchema,
          }),
        },
      },
    },
    ...errorResponses(401, 403, 404, 500),
  },
});

export function registerJobRoutes(app: App, inputSchemas: InputSchemas): void {
  app.openapi(submitJobRoute, async (c) => {
    const body = c.req.valid("json");
    const result = await idempotent(
      c,
      { key: c.req.valid("header")["idempotency-key"], body, status: 201 },
      (key) => submitJobOnce(c.var.db, auditContext(c), body, key, inputSchemas),
      (job) => ({ job: jobJson(job) }),
    );
    return c.json(result, 201);
  });

  app.openapi(getOwnJobRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { job, output, latest, rootCreatedBy } = await jobWithOutput(c.var.db, jobId(id));
    // The caller is known once the read's statement has proved it.
    const principal = c.var.principal;
    // Someone else's job is reported as missing, so that ids of other callers do not leak; the
    // successors of one's own job are one's own to follow.
    if (!hasRole(principal, "admin") && rootCreatedBy !== principal.actor) {
      throw new DomainError("JOB_NOT_FOUND", `no job with id ${id}`, { jobId: id });
    }
    return c.json({ job: jobJson(job), output: output ? outputJson(output) : null, latest }, 200);
  });
}
