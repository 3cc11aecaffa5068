/**
 * `npm run bench:batch -- [--jobs 1000] [--runs 3] [--keep] [--json]`
 *
 * How long an incident's retry batch takes through the domain functions the API calls, on a
 * fresh database on the server that DATABASE_URL (or TEST_DATABASE_URL) names. Each run fails
 * `--jobs` demo jobs of its own error code (in bulk SQL, audited as the worker would), then
 * times approving them as one batch (preview, then create with the preview's token) and
 * executing it, and checks that every job got exactly one retry. Prints each run and the
 * medians, then drops the database. `--json` adds a last line with every run's times
 * (`{"approve_ms": […], "execute_ms": […]}`), for `npm run bench`.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import {
  createRetryBatch,
  executeRetryBatch,
  previewRetryBatch,
} from "../functions/domain/retry-batches";
import { builtInCatalog } from "../functions/execution/generators";
import { benchServer } from "./scratch-database";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000" },
    runs: { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const jobs = Number(values.jobs);
const runs = Number(values.runs);

const { name, at, admin } = benchServer("regent_bench_batch");

/** `n` jobs submitted, claimed and failed with `code`, each step in its transaction with its events. */
async function failJobs(raw: pg.Client, n: number, code: string, prefix: string): Promise<void> {
  const ids = `SELECT $1::text || lpad(g::text, 7, '0') AS id FROM generate_series(1, $2::int) g`;
  const steps: [string, unknown[]][][] = [
    [
      [
        `INSERT INTO regeneration_jobs (id, generator, input, created_by)
         SELECT id, 'demo', jsonb_build_object('text', id), 'bench' FROM (${ids}) x`,
        [prefix, n],
      ],
      [
        `INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
         SELECT 'JOB_CREATED', 'bench', 'job', id, '{"generator":"demo"}' FROM (${ids}) x`,
        [prefix, n],
      ],
    ],
    [
      [
        `UPDATE regeneration_jobs SET status = 'RUNNING', claimed_by = 'bench', claimed_at = now(),
                lease_expires_at = now() + interval '5 minutes'
         WHERE id IN (${ids})`,
        [prefix, n],
      ],
      [
        `INSERT INTO audit_events (type, actor, subject_type, subject_id)
         SELECT 'JOB_CLAIMED', 'bench', 'job', id FROM (${ids}) x`,
        [prefix, n],
      ],
    ],
    [
      [
        `UPDATE regeneration_jobs SET status = 'FAILED', finished_at = now(),
                error = jsonb_build_object('code', $3::text, 'message', 'the upstream was down')
         WHERE id IN (${ids})`,
        [prefix, n, code],
      ],
      [
        `INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
         SELECT 'JOB_FAILED', 'bench', 'job', id, jsonb_build_object('code', $3::text) FROM (${ids}) x`,
        [prefix, n, code],
      ],
    ],
  ];
  for (const statements of steps) {
    await raw.query("BEGIN");
    for (const [statement, params] of statements) await raw.query(statement, params);
    await raw.query("COMMIT");
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const ms = (n: number) => `${Math.round(n)} ms`;
/** CPU time of this process (ids, query building, result parsing), apart from the server's. */
const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

await admin(`CREATE DATABASE "${name}"`);
const database = await connect({ url: at(name), max: 10 });
const raw = new pg.Client({ connectionString: at(name) });
try {
  // The batch's size is the database's policy to allow.
  await migrate(database, {
    policy: { retryBatchMax: Math.max(jobs, 1000) },
    generators: builtInCatalog(),
  });
  await raw.connect();
  const approver = { actor: "bench:approver", requestId: "bench", ip: null, userAgent: "bench" };
  const executor = { actor: "bench:executor", requestId: "bench", ip: null, userAgent: "bench" };
  const approvals: number[] = [];
  const executions: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const code = `BENCH_RUN_${run}`;
    await failJobs(raw, jobs, code, `bench${run}x`);
    await raw.query("ANALYZE");
    const filter = { generator: "demo", errorCode: code };

    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const preview = await previewRetryBatch(database.db, filter);
    const previewed = performance.now();
    const batch = await createRetryBatch(database.db, approver, {
      filter,
      previewToken: preview.previewToken,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "the upstream was down",
    });
    const approved = performance.now();
    const approveCpu = cpuMs(process.cpuUsage(cpuAtStart));
    const cpuAtApproval = process.cpuUsage();
    const execution = await executeRetryBatch(database.db, executor, batch.id);
    const executed = performance.now();
    const executeCpu = cpuMs(process.cpuUsage(cpuAtApproval));

    const { rows } = await raw.query(
      `SELECT count(*)::int AS retries, count(DISTINCT j.retry_of_job_id)::int AS sources
       FROM regeneration_jobs j JOIN retry_intents i ON i.id = j.retry_intent_id
       WHERE i.batch_id = $1`,
      [batch.id],
    );
    const check = rows[0] as { retries: number; sources: number };
    if (
      preview.count !== jobs ||
      batch.jobCount !== jobs ||
      execution.created !== jobs ||
      check.retries !== jobs ||
      check.sources !== jobs
    ) {
      console.error(
        `run ${run}: expected ${jobs} of everything, got preview ${preview.count}, batch ${batch.jobCount}, created ${execution.created}, ${check.retries} retries of ${check.sources} jobs`,
      );
      process.exitCode = 1;
    }
    approvals.push(approved - started);
    executions.push(executed - approved);
    console.log(
      `run ${run}: approve ${ms(approved - started)} (preview ${ms(previewed - started)}, create ${ms(approved - previewed)}; ${ms(approveCpu)} of it on this process's CPU), execute ${ms(executed - approved)} (${ms(executeCpu)} CPU)`,
    );
  }
  console.log(
    `${jobs} failed jobs, median of ${runs}: approve (preview + create) ${ms(median(approvals))}, execute ${ms(median(executions))}`,
  );
  if (values.json) {
    console.log(JSON.stringify({ approve_ms: approvals, execute_ms: executions }));
  }
} finally {
  await raw.end().catch(() => {});
  await database.close();
  if (!values.keep) await admin(`DROP DATABASE "${name}" WITH (FORCE)`);
}
