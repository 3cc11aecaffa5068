import { z } from "zod";

/** An empty variable (as .env files and dashboards leave them) means "use the default". */
const unsetIfEmpty = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

const integer = (min: number, max: number, fallback: number) =>
  z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ error: "must be a whole number" })
      .int("must be a whole number")
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );

const headers = z.preprocess(
  (value) => {
    const text = unsetIfEmpty(value);
    if (typeof text !== "string") return text;
    try {
      return JSON.parse(text);
    } catch {
      return Symbol.for("invalid JSON");
    }
  },
  z
    .record(z.string(), z.string(), {
      error: 'must be a JSON object of strings, e.g. {"authorization":"Bearer …"}',
    })
    .default({}),
);

/**
 * The worker's environment (DESIGN §7, README "Configuration"), read once at the entry point:
 * a bad value stops the worker before it claims anything, with a message naming the variable.
 */
export const workerEnvSchema = z
  .object({
    /** Jobs taken by one claim statement, and at most this many finished per transaction. */
    WORKER_BATCH_SIZE: integer(1, 5000, 500),
    /** Jobs whose generators run at once; overlaps I/O-bound generators such as `http`. */
    WORKER_CONCURRENCY: integer(1, 1000, 16),
    /** A claim lapses after this long; the sweeper then fails the job with LEASE_EXPIRED. */
    WORKER_LEASE_SECONDS: integer(10, 86_400, 300),
    /** One invocation stops claiming after this long (a Cron Worker has minutes, not hours). */
    WORKER_BUDGET_MS: integer(100, 900_000, 25_000),
    /** Pause between invocations of the loop inside `npm start` and `npm run worker`. */
    WORKER_INTERVAL_MS: integer(100, 3_600_000, 2_000),
    /** One generator run may take this long before its job fails with GENERATOR_TIMEOUT. */
    JOB_TIMEOUT_MS: integer(10, 3_600_000, 60_000),
    HTTP_GENERATOR_URL: z.preprocess(
      unsetIfEmpty,
      z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
    ),
    HTTP_GENERATOR_TIMEOUT_MS: integer(10, 3_600_000, 30_000),
    HTTP_GENERATOR_HEADERS: headers,
  })
  .check((ctx) => {
    const { JOB_TIMEOUT_MS, WORKER_LEASE_SECONDS } = ctx.value;
    // A job that may still be running when its lease lapses would be failed under its feet.
    if (JOB_TIMEOUT_MS >= WORKER_LEASE_SECONDS * 1000) {
      ctx.issues.push({
        code: "custom",
        input: JOB_TIMEOUT_MS,
        path: ["JOB_TIMEOUT_MS"],
        message: `must be shorter than the lease (WORKER_LEASE_SECONDS = ${WORKER_LEASE_SECONDS} s)`,
      });
    }
  });

export interface WorkerConfig {
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  budgetMs: number;
  intervalMs: number;
  jobTimeoutMs: number;
  http: { url?: string | undefined; timeoutMs: number; headers: Record<string, string> };
}

export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

/** Reads the worker's settings from an environment (process.env or a Worker's bindings). */
export function loadWorkerConfig(env: object): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "(environment)"}: ${issue.message}`,
    );
    throw new WorkerConfigError(`invalid worker configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  return {
    batchSize: e.WORKER_BATCH_SIZE,
    concurrency: e.WORKER_CONCURRENCY,
    leaseSeconds: e.WORKER_LEASE_SECONDS,
    budgetMs: e.WORKER_BUDGET_MS,
    intervalMs: e.WORKER_INTERVAL_MS,
    jobTimeoutMs: e.JOB_TIMEOUT_MS,
    http: {
      url: e.HTTP_GENERATOR_URL,
      timeoutMs: e.HTTP_GENERATOR_TIMEOUT_MS,
      headers: e.HTTP_GENERATOR_HEADERS,
    },
  };
}
