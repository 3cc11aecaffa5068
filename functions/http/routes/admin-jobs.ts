import { z } from "@hono/zod-openapi";
import { listJobs } from "../../domain/jobs";
import { jobDetail } from "../../domain/read-models";
import { suggestReasonCode } from "../../domain/suggested-reason";
import type { App } from "../env";
import { jobId } from "../lookup";
import { errorResponses, securedRoute } from "../route";
import {
  DEFAULT_PAGE_SIZE,
  GeneratorVersionsSchema,
  IdParams,
  JobListQuery,
  JobSchema,
  LatestJobSchema,
  LineageEntrySchema,
  OutputSchema,
  orNull,
  page,
  ReasonCodeSchema,
  RetryIntentSchema,
} from "../schemas";
import { intentJson, jobJson, lineageJson, outputJson, pageJson } from "../serialize";

const listJobsRoute = securedRoute("viewer", {
  operationId: "listJobs",
  method: "get",
  path: "/api/admin/jobs",
  tags: ["admin"],
  summary: "List jobs, newest first",
  description:
    "Every filter narrows. `open=true` lists what needs a decision: the open failures, read from the database's own record of them, so the list costs its page whatever the history. `errorCode`, `failedAfter` and `failedBefore` keep FAILED jobs only.",
  request: { query: JobListQuery },
  responses: {
    200: {
      description: "one page of jobs",
      content: { "application/json": { schema: page(JobSchema) } },
    },
    ...errorResponses(400, 401, 403, 500),
  },
});

const getJobRoute = securedRoute("viewer", {
  operationId: "getJob",
  method: "get",
  path: "/api/admin/jobs/{id}",
  tags: ["admin"],
  summary: "A job with its output, its whole lineage of retries and supersessions, and its intents",
  description:
    "Also what an admin deciding about a FAILED job needs: the reason code its error suggests, and how much of its chain's retry budget is used (`retryDepth` of `retryBudget`).",
  request: { params: IdParams },
  responses: {
    200: {
      description: "the job in context",
      content: {
        "application/json": {
          schema: z.object({
            job: JobSchema,
            output: orNull(OutputSchema),
            lineage: z.array(LineageEntrySchema),
            intents: z.array(RetryIntentSchema),
            suggestedReasonCode: ReasonCodeSchema.nullable().openapi({
              description:
                "for a FAILED job, the reason code its error suggests (a suggestion only); null when the error says nothing about its cause, and for any other status",
            }),
            retryDepth: z.number().int().openapi({
              description:
                "retries between this job and the original of its chain: 0 for an original",
            }),
            retryBudget: z.number().int().openapi({
              description:
                "governed retries a chain gets without an override (RETRY_BUDGET); a FAILED job at retryDepth ≥ retryBudget needs overrideBudget",
            }),
            latest: LatestJobSchema,
            versions: GeneratorVersionsSchema,
          }),
        },
      },
    },
    ...errorResponses(401, 403, 404, 500),
  },
});

export function registerAdminJobRoutes(app: App): void {
  app.openapi(listJobsRoute, async (c) => {
    const query = c.req.valid("query");
    const result = await listJobs(c.var.db, { ...query, limit: query.limit ?? DEFAULT_PAGE_SIZE });
    return c.json(pageJson(result, jobJson), 200);
  });

  app.openapi(getJobRoute, async (c) => {
    const { job, output, lineage, intents, retryBudget, latest, versions } = await jobDetail(
      c.var.db,
      jobId(c.req.valid("param").id),
    );
    return c.json(
      {
        job: jobJson(job),
        output: output ? outputJson(output) : null,
        lineage: lineage.map(lineageJson),
        intents: intents.map(intentJson),
        suggestedReasonCode:
          job.status === "FAILED" ? (suggestReasonCode(job.error) ?? null) : null,
        retryDepth: lineage.find((entry) => entry.job.id === job.id)?.depth ?? 0,
        retryBudget,
        latest,
        versions,
      },
      200,
    );
  });
}
