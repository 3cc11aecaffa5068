/**
 * One draining process of `npm run bench` (bench/run.ts starts it; not meant to be run by hand).
 *
 *   tsx bench/drain.ts <regent|graphile-worker|pg-boss> <database URL> <settings JSON>
 *
 * Connects, prints `ready`, waits for a line on stdin, then works the jobs already in the
 * database: Regent runs one worker invocation (as `npm run worker -- --once`), a peer runs its
 * worker with a no-op task until it has done `settings.jobs` jobs, or until `settings.windowMs`
 * has passed. Prints one JSON line, `{"startedAt": …, "endedAt": …, "done": …}` (epoch
 * milliseconds) and the CPU time it used meanwhile, keeps its connections open until stdin
 * closes (so that bench/run.ts can read their CPU time), then stops and exits. Only the work between
 * the line on stdin and the last job is timed: connecting and starting up are not.
 */
import { once } from "node:events";
import { createInterface } from "node:readline";
import { run } from "graphile-worker";
import pg from "pg";
import { PgBoss } from "pg-boss";
import { connect } from "../db/client";
import { runWorkerInvocation } from "../functions/execution/invocation";
import { type DrainSettings, PGBOSS_QUEUE } from "./drain-settings";

const [system, url, settingsJson] = process.argv.slice(2);
if (!system || !url || !settingsJson) {
  console.error("usage: tsx bench/drain.ts <system> <database URL> <settings JSON>");
  process.exit(2);
}
const settings = JSON.parse(settingsJson) as DrainSettings;
const lines = createInterface({ input: process.stdin });
/** When the go signal arrived (epoch ms, comparable across processes), and this process's CPU. */
let startedAt = 0;
let cpuAtGo = process.cpuUsage();
const go = once(lines, "line").then(() => {
  startedAt = performance.timeOrigin + performance.now();
  cpuAtGo = process.cpuUsage();
});
/** Run once stdin closes: the database connections stay open until then, for run.ts to measure. */
const stops: (() => Promise<unknown>)[] = [];

/** Resolves once `count()` reaches the target or the window closes; returns the time it took. */
function finishLine(count: () => number, started: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = settings.windowMs ? started + settings.windowMs : Number.POSITIVE_INFINITY;
    const tick = () => {
      if (count() >= settings.jobs || performance.now() >= deadline) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
}

/**
 * Waits until the database shows `settings.jobs` jobs done (a peer batches its completions, so
 * its handler's count runs ahead of what is committed); a run with a window just stops there.
 */
async function recorded(query: string): Promise<void> {
  if (settings.windowMs) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (;;) {
      const { rows } = await client.query<{ n: number }>(query);
      if ((rows[0]?.n ?? 0) >= settings.jobs) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    await client.end();
  }
}

async function regent(): Promise<{ ms: number; done: number }> {
  const database = await connect({ url: url as string, max: 10 });
  console.log("ready");
  await go;
  const result = await runWorkerInvocation(database.db, {
    budgetMs: 600_000,
    batchSize: settings.batchSize ?? 500,
    concurrency: settings.concurrency ?? 16,
    log: () => {},
  });
  stops.push(() => database.close());
  return { ms: result.durationMs, done: result.completed };
}

async function graphileWorker(): Promise<{ ms: number; done: number }> {
  let done = 0;
  const best = settings.graphile;
  console.log("ready");
  await go;
  const started = performance.now();
  const runner = await run({
    connectionString: url,
    taskList: {
      noop: async () => {
        done += 1;
      },
    },
    noHandleSignals: true,
    logger: undefined,
    ...(best
      ? {
          concurrency: best.concurrency,
          maxPoolSize: best.concurrency + 2,
          preset: {
            worker: {
              localQueue: { size: best.localQueueSize },
              completeJobBatchDelay: best.completeJobBatchDelay,
              failJobBatchDelay: best.completeJobBatchDelay,
            },
          },
        }
      : {}),
  });
  await finishLine(() => done, started);
  // Completed jobs are deleted: done once none of them is left.
  await recorded(`SELECT ${settings.jobs} - count(*)::int AS n FROM graphile_worker._private_jobs`);
  const ms = performance.now() - started;
  stops.push(() => runner.stop());
  return { ms, done };
}

async function pgBoss(): Promise<{ ms: number; done: number }> {
  let done = 0;
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
  boss.on("error", (error) => console.error(error));
  await boss.start();
  console.log("ready");
  await go;
  const started = performance.now();
  const handler = async (jobs: unknown[]) => {
    done += jobs.length;
  };
  if (settings.pgboss) await boss.work(PGBOSS_QUEUE, settings.pgboss, handler);
  else await boss.work(PGBOSS_QUEUE, handler);
  await finishLine(() => done, started);
  await recorded("SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'completed'");
  const ms = performance.now() - started;
  stops.push(() => boss.stop({ graceful: true, close: true }));
  return { ms, done };
}

const result =
  system === "regent"
    ? await regent()
    : system === "graphile-worker"
      ? await graphileWorker()
      : system === "pg-boss"
        ? await pgBoss()
        : undefined;
if (!result) {
  console.error(`unknown system ${system}`);
  process.exit(2);
}
const cpu = process.cpuUsage(cpuAtGo);
console.log(
  JSON.stringify({
    startedAt,
    endedAt: startedAt + result.ms,
    done: result.done,
    cpuMs: (cpu.user + cpu.system) / 1000,
  }),
);
await once(lines, "close");
for (const stop of stops) await stop();
process.exit(0);
