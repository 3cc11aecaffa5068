/**
 * `npm run bench:history -- [--jobs 1000000] [--ten-million] [--samples 5] [--keep NAME]`
 *
 * What the admin's reads cost on a long history: each read's median over `--samples` requests
 * to `npm start`, on an empty database and on one seeded with `--jobs` finished jobs (10,000,000
 * with --ten-million), side by side. Both databases are made on the server DATABASE_URL (or
 * TEST_DATABASE_URL) names and dropped afterwards, unless `--keep` names the seeded one to keep
 * (and to reuse on the next run with the same name, skipping the seeding).
 *
 * The seed's shape, as a busy deployment's years would leave it: jobs created at an even rate of
 * 1,000,000 a year (about 2,700 a day) up to now, so that 10,000,000 are ten years of the same
 * days (a longer history, not a busier one); half `demo` and half `http`; 95% COMPLETED with an
 * output, 5% FAILED with one of six error codes; three audit events each (created, claimed,
 * finished), sealed.
 * It is written by the owner with the triggers off (`session_replication_role = replica`), in
 * batches of 100,000 jobs, and the database's counters are then filled from the rows as a
 * migration fills them; the reads then run as any deployment's would. The "empty" database
 * holds one job of the same shape, the FAILED one whose page is read.
 */
import { parseArgs } from "node:util";
import pg from "pg";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import { builtInCatalog } from "../functions/execution/generators";
import { AdminClient } from "../tests/helpers/admin";
import { startRegent } from "../tests/helpers/start-server";
import { benchServer } from "./scratch-database";

const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000000" },
    "ten-million": { type: "boolean", default: false },
    samples: { type: "string", default: "5" },
    keep: { type: "string" },
  },
});
const jobs = values["ten-million"] ? 10_000_000 : Number(values.jobs);
const samples = Number(values.samples);
if (!Number.isInteger(jobs) || jobs < 1 || !Number.isInteger(samples) || samples < 1) {
  console.error("--jobs and --samples take positive whole numbers");
  process.exit(2);
}

const ADMIN_TOKEN = "bench-history-admin-token-0123456789";
const METRICS_TOKEN = "bench-history-metrics-token-0123456789";
const CHUNK = 100_000;
const ERROR_CODES = [
  "HTTP_STATUS_503",
  "HTTP_STATUS_500",
  "HTTP_TIMEOUT",
  "HTTP_INVALID_RESPONSE",
  "INVALID_INPUT",
  "GENERATOR_TIMEOUT",
];

/** A year's 31,536,000 seconds over 1,000,000 jobs: one job every 31.536 s. */
const SPACING = "interval '31.536 seconds'";

/** Jobs first..last: ids, generators, outcomes and instants all follow from the number. */
async function seedChunk(client: pg.Client, first: number, last: number, total: number) {
  await client.query("BEGIN");
  await client.query("SET LOCAL session_replication_role = replica");
  await client.query(
    `INSERT INTO regeneration_jobs (id, generator, input, status, created_by, created_at,
                                    claimed_by, claimed_at, lease_expires_at, finished_at, error)
     SELECT 'h' || lpad(g::text, 9, '0'),
            CASE WHEN g % 2 = 0 THEN 'demo' ELSE 'http' END,
            jsonb_build_object('text', 'document ' || g),
            CASE WHEN g % 40 IN (7, 14) THEN 'FAILED' ELSE 'COMPLETED' END::job_status,
            'token:bench', t, 'bench-worker', t + interval '1 second', t + interval '301 seconds',
            t + interval '2 seconds',
            CASE WHEN g % 40 IN (7, 14) THEN jsonb_build_object(
              'code', ($3::text[])[1 + (g / 40) % 6], 'message', 'the generator service answered 503')
            END
     FROM generate_series($1::int, $2::int) g,
          LATERAL (SELECT now() - (${total} - g) * ${SPACING} AS t) at`,
    [first, last, ERROR_CODES],
  );
  await client.query(
    `INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version, created_at)
     SELECT 'o' || substr(j.id, 2), j.id, jsonb_build_object('text', 'regenerated ' || j.id),
            encode(sha256(convert_to(j.id, 'UTF8')), 'hex'), '1', j.finished_at
     FROM regeneration_jobs j
     WHERE j.id BETWEEN 'h' || lpad($1::text, 9, '0') AND 'h' || lpad($2::text, 9, '0')
       AND j.status = 'COMPLETED'`,
    [first, last],
  );
  await client.query(
    `INSERT INTO audit_events (type, actor, subject_type, subject_id, data, created_at)
     SELECT e.type, e.actor, 'job', j.id, e.data, e.at
     FROM regeneration_jobs j,
          LATERAL (VALUES
            (1, 'JOB_CREATED', 'token:bench', jsonb_build_object('generator', j.generator), j.created_at),
            (2, 'JOB_CLAIMED', 'worker:bench', '{}'::jsonb, j.claimed_at),
            (3, CASE j.status WHEN 'FAILED' THEN 'JOB_FAILED' ELSE 'JOB_COMPLETED' END,
             'worker:bench', coalesce(j.error, '{}'::jsonb), j.finished_at)) e(n, type, actor, data, at)
     WHERE j.id BETWEEN 'h' || lpad($1::text, 9, '0') AND 'h' || lpad($2::text, 9, '0')
     ORDER BY j.id, e.n`,
    [first, last],
  );
  await client.query("COMMIT");
}

/** Seeds `total` jobs; with `only`, just that one of them. */
async function seed(url: string, total: number, only?: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = Date.now();
    if (only) await seedChunk(client, only, only, total);
    for (let first = 1; !only && first <= total; first += CHUNK) {
      await seedChunk(client, first, Math.min(total, first + CHUNK - 1), total);
      // Sealed as it goes, as a worker seals after each invocation: one seal over the whole
      // seed would fingerprint every event in one statement.
      await client.query("SELECT regent_seal_audit('bench')");
      process.stderr.write(`seeded ${Math.min(total, first + CHUNK - 1)} of ${total} jobs\n`);
    }
    if (!only) process.stderr.write(`seeded in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    // The triggers were off: fill the counters from the rows, as the migration that brought
    // them does, then seal the last events (twice: a seal covers up to the watermark the one
    // before it set).
    await client.query("SELECT regent_fill_tallies()");
    await client.query("SELECT regent_seal_audit('bench')");
    await client.query("SELECT regent_seal_audit('bench')");
    await client.query("VACUUM ANALYZE");
  } finally {
    await client.end();
  }
}

interface Read {
  name: string;
  /** Statuses that are the read's answer: a batch over more jobs than a batch holds is refused. */
  answers?: number[];
  request: (admin: AdminClient, url: string) => Promise<Response>;
}

const READS: Read[] = [
  ...[
    ["GET /admin", "/admin"],
    ["GET /admin?status=all", "/admin?status=all"],
    ["GET /admin?status=COMPLETED", "/admin?status=COMPLETED"],
    ["GET /admin?generator=http", "/admin?generator=http"],
    ["GET /admin/signals", "/admin/signals"],
    ["GET /admin/retry-batches/new?generator=http", "/admin/retry-batches/new?generator=http"],
    ["GET /admin/retry-batches", "/admin/retry-batches"],
    ["GET /admin/retry-intents", "/admin/retry-intents"],
    ["GET /admin/audit", "/admin/audit"],
    ["GET /admin/generators", "/admin/generators"],
    ["GET /admin/jobs/:id", "/admin/jobs/h000000007"],
  ].map(([name, path]) => ({
    name: name as string,
    answers: (path as string).includes("retry-batches/new") ? [200, 409] : [200],
    request: (admin: AdminClient) => admin.request(path as string),
  })),
  {
    name: "GET /metrics",
    request: (_admin, url) =>
      fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }),
  },
  ...[
    ["GET /api/admin/metrics", "/api/admin/metrics"],
    ["GET /api/admin/jobs", "/api/admin/jobs"],
    ["GET /api/admin/jobs?status=FAILED", "/api/admin/jobs?status=FAILED"],
  ].map(([name, path]) => ({
    name: name as string,
    request: (_admin: AdminClient, url: string) =>
      fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
  })),
  {
    name: "POST /api/admin/retry-batches/preview (http)",
    answers: [200, 409],
    request: (_admin, url) =>
      fetch(`${url}/api/admin/retry-batches/preview`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ filter: { generator: "http" } }),
      }),
  },
  {
    name: "POST /api/admin/retry-batches/preview (one hour)",
    request: (_admin, url) =>
      fetch(`${url}/api/admin/retry-batches/preview`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          filter: {
            generator: "http",
            failedAfter: new Date(Date.now() - 86_400_000).toISOString(),
            failedBefore: new Date(Date.now() - 82_800_000).toISOString(),
          },
        }),
      }),
  },
];

/** Each read's median over `samples` requests (after one unmeasured), in ms, by name. */
async function measure(databaseUrl: string): Promise<Map<string, number>> {
  const server = await startRegent(
    {
      DATABASE_URL: databaseUrl,
      REGENT_BOOTSTRAP_ADMIN_TOKEN: ADMIN_TOKEN,
      METRICS_TOKEN,
      WORKER_INTERVAL_MS: "600000",
    },
    120_000,
    { migrate: false },
  );
  try {
    const admin = new AdminClient(
      { request: (url, init) => fetch(url, { ...init, redirect: "manual" }) },
      server.url,
    );
    const signedIn = await admin.signIn(ADMIN_TOKEN);
    if (signedIn.status >= 400) throw new Error(`sign-in answered ${signedIn.status}`);
    const medians = new Map<string, number>();
    for (const read of READS) {
      const times: number[] = [];
      for (let i = 0; i <= samples; i++) {
        const started = performance.now();
        const res = await read.request(admin, server.url);
        await res.arrayBuffer();
        if (!(read.answers ?? [200]).includes(res.status))
          throw new Error(`${read.name} answered ${res.status}`);
        if (i > 0) times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      medians.set(read.name, times[Math.floor(times.length / 2)] ?? Number.NaN);
    }
    return medians;
  } finally {
    await server.stop();
  }
}

async function prepare(url: string): Promise<void> {
  const database = await connect({ url });
  try {
    await migrate(database, { generators: builtInCatalog() });
  } finally {
    await database.close();
  }
}

/**
 * Whether a kept database holds the seed already; a run stopped while seeding leaves it with
 * fewer jobs, which is refused rather than measured.
 */
async function holdsJobs(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT count(*)::int AS n FROM regeneration_jobs");
    const held = Number(rows[0]?.n);
    if (held !== 0 && held !== jobs) {
      throw new Error(`the kept database holds ${held} jobs, not ${jobs}: drop it and run again`);
    }
    return held === jobs;
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const { name, at, admin } = benchServer("regent_history");
  const empty = `${name}_empty`;
  const seeded = values.keep ?? `${name}_seeded`;
  await admin(`CREATE DATABASE ${empty}`);
  const exists = values.keep
    ? (await admin(`SELECT 1 FROM pg_database WHERE datname = '${seeded}'`)).rowCount === 1
    : false;
  let seededAlready = false;
  try {
    await prepare(at(empty));
    await seed(at(empty), jobs, 7);
    if (!exists) await admin(`CREATE DATABASE ${seeded}`);
    // A kept database is migrated again: a newer release's migrations and counters apply.
    await prepare(at(seeded));
    if (exists) seededAlready = await holdsJobs(at(seeded));
    if (!seededAlready) await seed(at(seeded), jobs);
    const size = await admin(`SELECT pg_size_pretty(pg_database_size('${seeded}')) AS size`);
    const before = await measure(at(empty));
    const after = await measure(at(seeded));
    const label = `${jobs.toLocaleString("en-US")} jobs`;
    console.log(`\n| read | empty | ${label} (${size.rows[0]?.size}) |`);
    console.log("| --- | ---: | ---: |");
    for (const read of READS) {
      const a = before.get(read.name) ?? Number.NaN;
      const b = after.get(read.name) ?? Number.NaN;
      console.log(`| ${read.name} | ${a.toFixed(1)} ms | ${b.toFixed(1)} ms |`);
    }
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${empty} WITH (FORCE)`);
    if (!values.keep) await admin(`DROP DATABASE IF EXISTS ${seeded} WITH (FORCE)`);
  }
}

await main();
