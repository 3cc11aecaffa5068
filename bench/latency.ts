/**
 * `npm run bench:latency -- [--target workerd|start] [--delay 20] [--samples 50]
 *   [--pickups 20] [--jitter-ms 200] [--cron-seconds 60] [--keep]`
 *
 * Latency as a caller sees it, one request at a time, on a fresh database on the server that
 * DATABASE_URL (or TEST_DATABASE_URL) names. Prints p50/p95 (ms) of submit, create intent,
 * execute and GET job, and of submit→RUNNING: from sending the submit to the claim that takes
 * the job (its claimed_at).
 *
 * --target workerd (default): the real bundles in Miniflare, as Cloudflare runs them: the API
 * Worker (functions/api.ts) and the claimer Worker (functions/worker.ts), the API bound to the
 * claimer by the wake-up queue as deployed, both reaching PostgreSQL through a WebSocket proxy
 * that holds every message `--delay` ms each way (a database that far away). The Cron is
 * simulated: `scheduled` at each whole `--cron-seconds`. With DATABASE_DRIVER=http in the
 * environment the API Worker queries over SQL-over-HTTP instead, through a stand-in for Neon's
 * endpoint with the same delay.
 *
 * --target start: `npm start` (API, admin page and worker loop in one process) on the same
 * kind of database, with no added delay.
 *
 * Requests are measured one at a time; after one that created a job the bench waits (at most
 * a second) for that job to finish before the next, so that the claimer's work does not share
 * the machine with the request measured (on Cloudflare they run apart; here the two Workers
 * also run in two workerd processes). Before each pickup sample the bench waits a random time
 * below `--jitter-ms`, so that submits do not line up with the Cron's ticks. The database is dropped unless --keep.
 */
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import pg from "pg";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import { CLAIMER_WAKE, CLAIMER_WAKE_BATCH } from "../functions/config/wake";
import { createApiToken } from "../functions/domain/api-tokens";
import { builtInCatalog } from "../functions/execution/generators";
import { compatibilityDate, compatibilityFlags } from "../infra/worker-settings";
import { startNeonHttp } from "../tests/helpers/neon-http";
import { startRegent } from "../tests/helpers/start-server";
import { bundleWorker, WAKE_QUEUE, withPassword } from "../tests/helpers/workerd";
import { startWsProxy } from "../tests/helpers/ws-proxy";
import { benchServer } from "./scratch-database";

const { values } = parseArgs({
  options: {
    target: { type: "string", default: "workerd" },
    delay: { type: "string", default: "20" },
    samples: { type: "string", default: "50" },
    pickups: { type: "string", default: "20" },
    "jitter-ms": { type: "string", default: "200" },
    "cron-seconds": { type: "string", default: "60" },
    keep: { type: "boolean", default: false },
  },
});
const target = values.target;
const delayMs = Number(values.delay);
const samples = Number(values.samples);
const pickups = Number(values.pickups);
const jitterMs = Number(values["jitter-ms"]);
const cronMs = Number(values["cron-seconds"]) * 1000;
if (
  (target !== "workerd" && target !== "start") ||
  !(delayMs >= 0) ||
  !(samples >= 1) ||
  !(pickups >= 0) ||
  !(jitterMs >= 0) ||
  !(cronMs >= 1000)
) {
  console.error(
    "usage: npm run bench:latency -- [--target workerd|start] [--delay ms] [--samples n] [--pickups n] [--jitter-ms ms] [--cron-seconds s] [--keep]",
  );
  process.exit(2);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

const { name, at, admin: adminStatement } = benchServer("regent_latency");
await adminStatement(`CREATE DATABASE "${name}"`);
const url = at(name);
const database = await connect({ url, max: 4 });
const raw = new pg.Client({ connectionString: url });
const stops: (() => Promise<unknown>)[] = [];

try {
  await migrate(database, { generators: builtInCatalog() });
  await raw.connect();
  const system = { actor: "bench" };
  const adminToken = (await createApiToken(database.db, system, { name: "a", role: "admin" }))
    .token;
  const submitterToken = (
    await createApiToken(database.db, system, { name: "s", role: "submitter" })
  ).token;

  // Failed jobs to record intents for, made before anything can claim them.
  const failedIds: string[] = [];
  for (let i = 0; i < samples + 3; i++) failedIds.push(await failedJob(raw, i));

  let send: (path: string, init: RequestInit) => Promise<Response>;
  let label: string;
  if (target === "workerd") {
    const proxy = await startWsProxy({ delayMs });
    stops.push(() => proxy.close());
    const driver = process.env.DATABASE_DRIVER === "http" ? "http" : "websocket";
    const neonHttp = driver === "http" ? await startNeonHttp({ delayMs }) : undefined;
    if (neonHttp) stops.push(() => neonHttp.close());
    const [api, worker] = await Promise.all([
      bundleWorker("functions/api.ts"),
      bundleWorker("functions/worker.ts"),
    ]);
    const common = {
      modules: true,
      compatibilityDate,
      compatibilityFlags: [...compatibilityFlags],
    };
    const databaseBindings = {
      DATABASE_URL: withPassword(url),
      NEON_WS_PROXY: proxy.address,
    };
    // Two workerd processes, as the two Workers run apart on Cloudflare: in one process a
    // wake-up's invocation would hold up the API's requests on the same event loop. The API's
    // producer binding sends to a queue in its own process, consumed with the deployed batch
    // settings by a Worker that hands each batch to the claimer's process as a queue event.
    const claimerMf = new Miniflare({
      ...common,
      script: worker.text,
      bindings: { ...databaseBindings, WORKER_CONCURRENCY: "4" },
    });
    stops.push(() => claimerMf.dispose());
    const claimer = await claimerMf.getWorker();
    const mf = new Miniflare({
      workers: [
        {
          ...common,
          name: "api",
          script: api.text,
          bindings: {
            ...databaseBindings,
            ...(neonHttp ? { DATABASE_DRIVER: "http", NEON_HTTP_ENDPOINT: neonHttp.endpoint } : {}),
            SESSION_SECRET: "a-session-secret-of-at-least-32-characters",
          },
          queueProducers: { [CLAIMER_WAKE.binding]: { queueName: WAKE_QUEUE } },
        },
        {
          ...common,
          name: "wake-forwarder",
          script: `export default {
            async queue(batch, env) {
              const messages = batch.messages.map((m) => ({
                id: m.id, timestamp: m.timestamp.getTime(), attempts: m.attempts, body: m.body,
              }));
              await env.CLAIMER.fetch("https://claimer/", {
                method: "POST",
                body: JSON.stringify(messages),
              });
              batch.ackAll();
            },
          };`,
          queueConsumers: {
            [WAKE_QUEUE]: {
              maxBatchSize: CLAIMER_WAKE_BATCH.batchSize,
              maxBatchTimeout: CLAIMER_WAKE_BATCH.windowMs / 1000,
            },
          },
          serviceBindings: {
            CLAIMER: async (request: Request) => {
              const messages = (await request.json()) as {
                id: string;
                timestamp: number;
                attempts: number;
                body: unknown;
              }[];
              await claimer.queue(
                WAKE_QUEUE,
                messages.map((m) => ({ ...m, timestamp: new Date(m.timestamp) })),
              );
              return new Response(null, { status: 204 }) as never;
            },
          },
        },
      ],
    });
    stops.push(() => mf.dispose());
    // The Cron: `scheduled` at each whole period, as Cloudflare fires `* * * * *`.
    let cronTimer: ReturnType<typeof setTimeout> | undefined;
    let ticking: Promise<unknown> = Promise.resolve();
    const nextTick = () => {
      cronTimer = setTimeout(
        () => {
          ticking = claimer.scheduled({ cron: "* * * * *" }).catch(() => undefined);
          nextTick();
        },
        cronMs - (Date.now() % cronMs),
      );
    };
    nextTick();
    stops.push(async () => {
      clearTimeout(cronTimer);
      await ticking;
    });
    send = async (path, init) => {
      const response = await mf.dispatchFetch(`https://regent.example${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), "cf-connecting-ip": "203.0.113.7" },
      } as never);
      return response as unknown as Response;
    };
    label = `workerd, ${delayMs} ms each way, the API over ${driver}`;
  } else {
    const started = await startRegent({ DATABASE_URL: url, LOG_LEVEL: "warn" });
    stops.push(() => started.stop());
    send = (path, init) => fetch(`${started.url}${path}`, init);
    label = "npm start";
  }

  const timings: Record<string, number[]> = {
    submit: [],
    "create intent": [],
    execute: [],
    "GET job": [],
    "submit→RUNNING": [],
  };
  async function timed(kind: string | undefined, path: string, init: RequestInit) {
    const began = performance.now();
    const response = await send(path, init);
    const body = (await response.json()) as Record<string, { id: string }>;
    const elapsed = performance.now() - began;
    if (response.status >= 300) {
      throw new Error(`${init.method} ${path}: ${response.status} ${JSON.stringify(body)}`);
    }
    if (kind) timings[kind]?.push(elapsed);
    return body;
  }
  const json = (token: string, body?: unknown): RequestInit => ({
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const post = (token: string, body: unknown = {}) => json(token, body);
  /**
   * Waits (at most a second) for a job a request created to finish, so that the claimer's
   * work, which runs on machines of its own on Cloudflare, does not share this machine's
   * processes with the next request measured. Without wake-ups the job waits for the Cron and
   * the second passes.
   */
  async function settled(id: string | undefined) {
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      const { rows } = await raw.query("SELECT status FROM regeneration_jobs WHERE id = $1", [id]);
      if (rows[0]?.status === "COMPLETED" || rows[0]?.status === "FAILED") return;
      await sleep(5);
    }
  }

  for (let i = 0; i < samples + 3; i++) {
    // The first rounds warm the isolate and the bundles' code paths; they are not counted.
    const count = i >= 3;
    const submitted = await timed(
      count ? "submit" : undefined,
      "/api/jobs",
      post(submitterToken, { generator: "demo", input: { text: `latency ${i}` } }),
    );
    await settled(submitted.job?.id);
    await timed(
      count ? "GET job" : undefined,
      `/api/admin/jobs/${submitted.job?.id}`,
      json(adminToken),
    );
    const intent = await timed(
      count ? "create intent" : undefined,
      "/api/admin/retry-intents",
      post(adminToken, {
        sourceJobId: failedIds[i],
        reasonCode: "INFRA_ERROR",
        reasonText: "measured by the latency benchmark",
      }),
    );
    const executed = await timed(
      count ? "execute" : undefined,
      `/api/admin/retry-intents/${intent.intent?.id}/execute`,
      post(adminToken),
    );
    await settled(executed.job?.id);
  }

  for (let i = 0; i < pickups; i++) {
    await sleep(Math.random() * jitterMs);
    const sent = Date.now();
    const submitted = await timed(
      undefined,
      "/api/jobs",
      post(submitterToken, { generator: "demo", input: { text: `pickup ${i}` } }),
    );
    for (;;) {
      const { rows } = await raw.query(
        "SELECT (extract(epoch FROM claimed_at) * 1000)::float8 AS at FROM regeneration_jobs WHERE id = $1",
        [submitted.job?.id],
      );
      if (rows[0]?.at) {
        timings["submit→RUNNING"]?.push(rows[0].at - sent);
        break;
      }
      await sleep(5);
    }
  }

  console.log(`latency (${label}), one request at a time, ms:`);
  console.log("| operation | samples | p50 | p95 |");
  console.log("|---|---:|---:|---:|");
  for (const [kind, list] of Object.entries(timings)) {
    const sorted = [...list].sort((a, b) => a - b);
    if (sorted.length === 0) continue;
    console.log(
      `| ${kind} | ${sorted.length} | ${percentile(sorted, 50).toFixed(0)} | ${percentile(sorted, 95).toFixed(0)} |`,
    );
  }
} finally {
  for (const stop of stops.reverse()) await stop().catch((error) => console.error(error));
  await raw.end().catch(() => undefined);
  await database.close();
  if (!values.keep) await adminStatement(`DROP DATABASE "${name}" WITH (FORCE)`);
}

/** A FAILED demo job, moved there as a worker would: created, claimed, failed, each audited. */
async function failedJob(client: pg.Client, i: number): Promise<string> {
  const id = `latency${String(i).padStart(6, "0")}`;
  const event = `INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
                 VALUES ($1, $2, 'job', $3, $4)`;
  await client.query("BEGIN");
  await client.query(
    `INSERT INTO regeneration_jobs (id, generator, input, created_by)
     VALUES ($1, 'demo', '{"text":"to retry"}', 'bench')`,
    [id],
  );
  await client.query(event, ["JOB_CREATED", "bench", id, '{"generator":"demo"}']);
  await client.query("COMMIT");
  await client.query("BEGIN");
  await client.query(
    `UPDATE regeneration_jobs SET status = 'RUNNING', claimed_by = 'worker:bench',
       claimed_at = now(), lease_expires_at = now() + interval '1 minute' WHERE id = $1`,
    [id],
  );
  await client.query(event, ["JOB_CLAIMED", "worker:bench", id, "{}"]);
  await client.query("COMMIT");
  await client.query("BEGIN");
  await client.query(
    `UPDATE regeneration_jobs SET status = 'FAILED', finished_at = now(),
       error = '{"code":"DEMO_FAILURE","message":"failed for the benchmark"}' WHERE id = $1`,
    [id],
  );
  await client.query(event, ["JOB_FAILED", "worker:bench", id, '{"code":"DEMO_FAILURE"}']);
  await client.query("COMMIT");
  return id;
}
