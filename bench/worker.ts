/**
 * `npm run bench:worker -- [--jobs 20000] [--batch-size 500] [--concurrency 16] [--paused N] [--profile]`
 *
 * Creates a fresh database on the server that DATABASE_URL (or TEST_DATABASE_URL) names,
 * inserts demo jobs with their JOB_CREATED events, runs one invocation as
 * `npm run worker -- --once` would, checks every job completed once, prints jobs/s and where
 * the time went, and drops the database. `--paused N` first queues N older jobs of a paused
 * generator, which every claim passes over. `--profile` also reports the time PostgreSQL spent
 * in Regent's trigger functions (track_functions), which slows the run a little.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { publishGenerators } from "../db/catalog";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import { builtInCatalog } from "../functions/execution/generators";
import { runWorkerInvocation } from "../functions/execution/invocation";
import { benchServer, queueDemoJobs } from "./scratch-database";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "20000" },
    "batch-size": { type: "string", default: "500" },
    concurrency: { type: "string", default: "16" },
    paused: { type: "string", default: "0" },
    profile: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const jobs = Number(values.jobs);
const batchSize = Number(values["batch-size"]);
const concurrency = Number(values.concurrency);
const paused = Number(values.paused);

const { name, at, admin } = benchServer("regent_bench");

await admin(`CREATE DATABASE "${name}"`);
if (values.profile) await admin(`ALTER DATABASE "${name}" SET track_functions = 'pl'`);
const database = await connect({ url: at(name), max: 10 });
try {
  await migrate(database, { generators: builtInCatalog() });
  const raw = new pg.Client({ connectionString: at(name) });
  await raw.connect();
  await queueDemoJobs(raw, jobs);
  if (paused > 0) await queueHeldJobs(raw, paused);
  if (values.profile) await raw.query("SELECT pg_stat_reset()");

  const result = await runWorkerInvocation(database.db, {
    budgetMs: 600_000,
    batchSize,
    concurrency,
    log: () => {},
  });

  const { rows } = await raw.query(
    `SELECT (SELECT count(*) FROM regeneration_jobs WHERE status = 'COMPLETED' AND generator = 'demo')::int AS completed,
            (SELECT count(DISTINCT job_id) FROM regeneration_outputs)::int AS outputs,
            (SELECT count(*) FROM audit_events WHERE type = 'JOB_CLAIMED')::int AS claims`,
  );
  const check = rows[0] as { completed: number; outputs: number; claims: number };
  const seconds = result.durationMs / 1000;
  const ms = (n: number) => `${Math.round(n)} ms`;
  console.log(
    `${jobs} demo jobs${paused ? ` behind ${paused} jobs of a paused generator` : ""}, batch size ${batchSize}, concurrency ${concurrency}: ` +
      `${Math.round(result.completed / seconds)} jobs/s (${seconds.toFixed(2)} s, ${result.passes} claims)`,
  );
  console.log(
    `  completed ${result.completed}, failed ${result.failed}; in the database: ` +
      `${check.completed} COMPLETED, ${check.outputs} outputs, ${check.claims} JOB_CLAIMED events`,
  );
  console.log(
    `  time (sums; claims overlap generators and finishing): sweep ${ms(result.timings.sweepMs)}, ` +
      `claim ${ms(result.timings.claimMs)}, generators ${ms(result.timings.generatorMs)}, ` +
      `finish ${ms(result.timings.finishMs)}`,
  );
  if (values.profile) {
    await new Promise((r) => setTimeout(r, 700)); // statistics reach the collector lazily
    const stats = await raw.query(
      `SELECT funcname, calls, round(self_time)::int AS self_ms
       FROM pg_stat_user_functions ORDER BY self_time DESC`,
    );
    for (const f of stats.rows as { funcname: string; calls: number; self_ms: number }[]) {
      console.log(`  trigger ${f.funcname}: ${f.calls} calls, ${f.self_ms} ms`);
    }
  }
  await raw.end();
  if (check.completed !== jobs || check.outputs !== jobs || check.claims !== jobs) {
    console.error("not every job completed exactly once");
    process.exitCode = 1;
  }
} finally {
  await database.close();
  if (!values.keep) await admin(`DROP DATABASE "${name}" WITH (FORCE)`);
}

/**
 * `count` PENDING jobs of the generator `held`, created before every demo job and paused: the
 * oldest PENDING jobs, which each claim walks past in the PENDING index.
 */
async function queueHeldJobs(raw: pg.Client, count: number): Promise<void> {
  await publishGenerators(
    database.db,
    [{ name: "held", version: "held@bench", inputSchema: {} }],
    "bench",
  );
  await raw.query(
    `WITH made AS (
       INSERT INTO regeneration_jobs (id, generator, input, created_by, created_at)
       SELECT 'held' || lpad(g::text, 8, '0'), 'held', '{}', 'bench', now() - interval '1 hour' + g * interval '1 microsecond'
       FROM generate_series(1, $1::int) g RETURNING id
     )
     INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
     SELECT 'JOB_CREATED', 'bench', 'job', id, '{"generator":"held"}' FROM made`,
    [count],
  );
  await raw.query("SELECT regent_pause_generator($1::jsonb)", [
    JSON.stringify({ ctx: { actor: "bench" }, name: "held", reasonText: "held for the benchmark" }),
  ]);
  await raw.query("VACUUM ANALYZE");
}
