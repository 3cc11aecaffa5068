import { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { sha256Hex } from "../../domain/canonical-json";
import { RETRY_OUTCOMES, readSignals, type SignalTotals } from "../../domain/signals";
import { requireRole } from "../auth";
import type { App, AppEnv } from "../env";
import { exposition, type MetricFamily, PROMETHEUS_CONTENT_TYPE } from "../prometheus";
import { errorResponses, guardedRoute, securedRoute } from "../route";
import { IntentStatusSchema, JobStatusSchema, ReasonCodeSchema } from "../schemas";

const timestamp = z.string().openapi({ format: "date-time", example: "2025-01-01T12:00:00.000Z" });
const count = z.number().int().nonnegative();

const SurgeSchema = z
  .object({
    lastHour: count.openapi({ description: "retry jobs created in the hour before `at`" }),
    trailingHourlyMean: z.number().openapi({
      description: "retry jobs created in the 24 hours before that hour, divided by 24",
    }),
    factor: z.number().openapi({ description: "RETRY_SURGE_FACTOR" }),
    min: count.openapi({ description: "RETRY_SURGE_MIN" }),
    surging: z.boolean().openapi({
      description: "lastHour > factor × trailingHourlyMean and lastHour ≥ min",
    }),
  })
  .openapi("Surge");

const SignalsSchema = z
  .object({
    at: timestamp.openapi({ description: "the instant the figures were read at" }),
    jobs: z
      .object(Object.fromEntries(JobStatusSchema.options.map((status) => [status, count])))
      .openapi({ description: "jobs by status, every status" }),
    failures: z.array(z.object({ generator: z.string(), errorCode: z.string(), count })).openapi({
      description:
        "FAILED jobs by generator and error code, most first; generators the catalog does not hold are counted as `(uncatalogued)`",
    }),
    generators: z
      .array(z.object({ name: z.string(), paused: z.boolean() }))
      .openapi({ description: "each generator of the catalog, by name, and whether it is paused" }),
    retryIntents: z.array(
      z.object({ status: IntentStatusSchema, reasonCode: ReasonCodeSchema, count }),
    ),
    retryJobs: z
      .array(z.object({ reasonCode: ReasonCodeSchema, outcome: z.enum(RETRY_OUTCOMES), count }))
      .openapi({ description: "retry jobs by their intent's reason code and their own state" }),
    supersessionJobs: z
      .array(z.object({ reasonCode: ReasonCodeSchema, outcome: z.enum(RETRY_OUTCOMES), count }))
      .openapi({
        description:
          "jobs that superseded a COMPLETED one, by their intent's reason code and their own state: counted apart from retries",
      }),
    oldestPendingJobAgeSeconds: z.number().nonnegative(),
    hourly: z
      .array(z.object({ start: timestamp, end: timestamp, failures: count, retries: count }))
      .openapi({
        description:
          "the 24 hours before `at`, oldest first, each (start, end]: jobs that FAILED in it (by finishedAt) and retry jobs created in it",
      }),
    surge: SurgeSchema,
  })
  .openapi("Signals");

const signalsRoute = securedRoute("viewer", {
  operationId: "getSignals",
  method: "get",
  path: "/api/admin/metrics",
  tags: ["admin"],
  summary: "The metrics of /metrics as JSON, with 24 hourly counts and the surge rule",
  responses: {
    200: {
      description: "the figures, read in one snapshot each",
      content: { "application/json": { schema: SignalsSchema } },
    },
    ...errorResponses(401, 403, 500),
  },
});

/**
 * Prometheus scrapers rarely hold an API token of a person: METRICS_TOKEN lets one read this
 * page and nothing else. Compared as SHA-256 digests, so that the comparison takes the same time
 * whatever the presented value, its length included.
 */
async function isMetricsToken(request: Request, expected: string): Promise<boolean> {
  const match = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(request.headers.get("authorization") ?? "");
  if (!match?.[1]) return false;
  const [presented, wanted] = await Promise.all([sha256Hex(match[1]), sha256Hex(expected)]);
  let diff = 0;
  for (let i = 0; i < wanted.length; i++) diff |= presented.charCodeAt(i) ^ wanted.charCodeAt(i);
  return diff === 0;
}

/** The metrics token when one is configured and presented; otherwise a viewer, as anywhere. */
function metricsAccess(): MiddlewareHandler<AppEnv> {
  const viewer = requireRole("viewer");
  return async function metricsAccess(c, next) {
    const token = c.var.config.metricsToken;
    if (token && (await isMetricsToken(c.req.raw, token))) return next();
    return viewer(c, next);
  };
}

function families(totals: SignalTotals, surging: boolean): MetricFamily[] {
  return [
    {
      name: "regent_jobs",
      help: "Regeneration jobs by status.",
      type: "gauge",
      samples: Object.entries(totals.jobs).map(([status, value]) => ({
        labels: { status },
        value,
      })),
    },
    {
      name: "regent_job_failures_total",
      help: "FAILED jobs by generator and error code.",
      type: "counter",
      samples: totals.failures.map((f) => ({
        labels: { generator: f.generator, error_code: f.errorCode },
        value: f.count,
      })),
    },
    {
      name: "regent_generator_paused",
      help: "1 while an admin has paused the generator (its jobs wait PENDING); else 0.",
      type: "gauge",
      samples: totals.generators.map((g) => ({
        labels: { generator: g.name },
        value: g.paused ? 1 : 0,
      })),
    },
    {
      name: "regent_retry_intents",
      help: "Retry intents by status and reason code.",
      type: "gauge",
      samples: totals.retryIntents.map((i) => ({
        labels: { status: i.status, reason_code: i.reasonCode },
        value: i.count,
      })),
    },
    {
      name: "regent_retry_jobs_total",
      help: "Retry jobs by their intent's reason code and their state (pending, running, completed, failed).",
      type: "counter",
      samples: totals.retryJobs.map((r) => ({
        labels: { reason_code: r.reasonCode, outcome: r.outcome },
        value: r.count,
      })),
    },
    {
      name: "regent_supersession_jobs_total",
      help: "Jobs that superseded a COMPLETED job, by their intent's reason code and their state (pending, running, completed, failed).",
      type: "counter",
      samples: totals.supersessionJobs.map((r) => ({
        labels: { reason_code: r.reasonCode, outcome: r.outcome },
        value: r.count,
      })),
    },
    {
      name: "regent_oldest_pending_job_age_seconds",
      help: "How long the oldest PENDING job has waited; 0 when none is pending.",
      type: "gauge",
      samples: [{ value: totals.oldestPendingJobAgeSeconds }],
    },
    {
      name: "regent_retry_surge",
      help: "1 while retries created in the last hour exceed RETRY_SURGE_FACTOR times the trailing 24-hour hourly mean and are at least RETRY_SURGE_MIN; else 0.",
      type: "gauge",
      samples: [{ value: surging ? 1 : 0 }],
    },
  ];
}

/**
 * `GET /metrics` (Prometheus text format, for a viewer or the METRICS_TOKEN bearer) and
 * `GET /api/admin/metrics` (the same figures as JSON, with 24 hourly counts).
 */
export function registerMetricsRoutes(app: App): void {
  const metricsRoute = guardedRoute({
    operationId: "metrics",
    method: "get",
    path: "/metrics",
    tags: ["meta"],
    summary: "Metrics in the Prometheus text exposition format 0.0.4",
    description:
      "For a viewer, or for `Authorization: Bearer <METRICS_TOKEN>` when METRICS_TOKEN is configured. Families: regent_jobs{status}, regent_job_failures_total{generator,error_code} (generators not in the catalog counted as `(uncatalogued)`), regent_generator_paused{generator}, regent_retry_intents{status,reason_code}, regent_retry_jobs_total{reason_code,outcome}, regent_supersession_jobs_total{reason_code,outcome}, regent_oldest_pending_job_age_seconds, regent_retry_surge.",
    middleware: metricsAccess(),
    "x-regent-role": "viewer",
    responses: {
      200: {
        description: "the metrics",
        content: { "text/plain": { schema: z.string() } },
      },
      ...errorResponses(401, 403, 500),
    },
  });

  app.openapi(metricsRoute, async (c) => {
    const { totals, hourly } = await readSignals(c.var.db, c.var.config.surge);
    return c.text(exposition(families(totals, hourly.surge.surging)), 200, {
      "Content-Type": PROMETHEUS_CONTENT_TYPE,
    });
  });

  app.openapi(signalsRoute, async (c) => {
    const { totals, hourly } = await readSignals(c.var.db, c.var.config.surge);
    const { surge } = hourly;
    return c.json(
      {
        at: hourly.at.toISOString(),
        ...totals,
        hourly: hourly.hours.map((h) => ({
          start: h.start.toISOString(),
          end: h.end.toISOString(),
          failures: h.failures,
          retries: h.retries,
        })),
        surge: { ...surge, trailingHourlyMean: surge.trailingHourlyMean ?? 0 },
      },
      200,
    );
  });
}
