import { type ChildProcess, spawn } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobError } from "../../db/schema";
import { submitJob } from "../../functions/domain/jobs";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import {
  type GeneratorService,
  regentSessionsWaitingForLocks,
  slowGeneratorService,
  terminateRegentBackends,
} from "../helpers/faults";
import { submitter } from "../helpers/fixtures";
import { checkInvariants } from "../helpers/invariants";
import { answersWith, LOAD_KINDS, runMixedLoad, serverErrors } from "../helpers/mixed-load";
import { eventually, type StartedRegent, startRegent } from "../helpers/start-server";

/**
 * The database going away under a running Regent: its connections ended mid-request (as a
 * restart or failover ends them), a worker killed mid-batch, and repeated restarts during a
 * mixed load. Whatever happens, the process lives on, a request whose connection died is
 * answered 503 with Retry-After, nothing acknowledged is lost, nothing is half-written and
 * no job runs twice.
 */
const adminToken = `faults-${crypto.randomUUID()}`;

interface Answer {
  status: number;
  headers: Headers;
  body: { error?: { code: string }; job?: { id: string; status: string } } & Record<
    string,
    unknown
  >;
}

async function call(regent: StartedRegent, method: string, path: string, body?: unknown) {
  const response = await fetch(`${regent.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer["body"],
  } satisfies Answer;
}

async function rowCounts(raw: pg.Client) {
  const { rows } = await raw.query(
    `SELECT (SELECT count(*)::int FROM regeneration_jobs) AS jobs,
            (SELECT count(*)::int FROM retry_intents) AS intents,
            (SELECT count(*)::int FROM audit_events) AS events,
            (SELECT count(*)::int FROM idempotency_keys) AS keys`,
  );
  return rows[0];
}

/** A later request succeeds and the worker loop still runs its jobs to the end. */
async function expectServingAndWorking(regent: StartedRegent, text: string) {
  expect((await call(regent, "GET", "/healthz")).status).toBe(200);
  const submitted = await call(regent, "POST", "/api/jobs", { generator: "demo", input: { text } });
  expect(submitted.status).toBe(201);
  const id = submitted.body.job?.id as string;
  await eventually(async () => {
    const { body } = await call(regent, "GET", `/api/jobs/${id}`);
    return body.job?.status === "COMPLETED" ? true : undefined;
  }, "the worker loop to complete a job submitted after the fault");
}

const CRASH = /Unhandled 'error' event|uncaught|npm start exited/i;

describe("the API's database connections end while a request is in flight", () => {
  let t: TestDatabase;
  let regent: StartedRegent;
  beforeAll(async () => {
    t = await freshDatabase();
    regent = await startRegent({
      DATABASE_URL: t.url,
      REGENT_BOOTSTRAP_ADMIN_TOKEN: adminToken,
      WORKER_INTERVAL_MS: "100",
    });
  });
  afterAll(async () => {
    await regent?.stop();
  });

  it("answers 503 with Retry-After, writes nothing, and serves and works on", async () => {
    const before = await rowCounts(t.raw);
    const blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    let pending: Promise<Answer> | undefined;
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE regeneration_jobs IN ACCESS EXCLUSIVE MODE");
      pending = call(regent, "POST", "/api/jobs", {
        generator: "demo",
        input: { text: "lost with its connection" },
      });
      // The submit's statement (its unit of work, through regent_idempotent) waits for the lock: its
      // INSERT is in flight.
      await eventually(async () => {
        const waiting = await regentSessionsWaitingForLocks(t.raw, t.name);
        return waiting.some((s) => /regent_idempotent\(/i.test(s.query)) ? true : undefined;
      }, "the submit to wait for the lock");
      expect(await terminateRegentBackends(t.raw, t.name)).toBeGreaterThanOrEqual(1);
      const answer = await pending;
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("5");
      expect(answer.body.error?.code).toBe("SERVICE_UNAVAILABLE");
    } finally {
      await blocker.query("ROLLBACK");
      await blocker.end();
    }

    expect(await rowCounts(t.raw)).toEqual(before);
    const { rows } = await t.raw.query(
      "SELECT count(*)::int AS n FROM regeneration_jobs WHERE input->>'text' = 'lost with its connection'",
    );
    expect(rows[0].n).toBe(0);

    await expectServingAndWorking(regent, "after the fault");
    expect(regent.output()).toMatch(/"event":"database.unavailable"/);
    expect(regent.output()).not.toMatch(CRASH);
  });
});

/** `npm run worker` with `env`, in its own process group so that it can be killed whole. */
function spawnWorker(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn("npm", ["run", "worker", "--", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  return { child, exited, output: () => output };
}

describe("a worker killed mid-batch", () => {
  let t: TestDatabase;
  let service: GeneratorService;
  beforeAll(async () => {
    t = await freshDatabase();
    service = await slowGeneratorService();
  });
  afterAll(async () => {
    await service?.close();
  });

  it("leaves its claimed jobs to the sweep: FAILED LEASE_EXPIRED, and none runs again", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push((await submitJob(t.db, submitter, { generator: "http", input: { n: i } })).id);
    }
    const env = {
      DATABASE_URL: t.url,
      HTTP_GENERATOR_URL: service.url,
      WORKER_BATCH_SIZE: "6",
      WORKER_CONCURRENCY: "2",
      WORKER_INTERVAL_MS: "100",
    };
    const worker = spawnWorker([], env);
    try {
      await eventually(
        async () => (service.seen.size >= 2 ? true : undefined),
        "the worker to have two jobs in flight",
        60_000,
      );
    } finally {
      if (worker.child.pid) process.kill(-worker.child.pid, "SIGKILL");
    }
    await worker.exited;
    const seenAtKill = new Map(service.seen);

    const { rows: running } = await t.raw.query<{ id: string; claimed_by: string }>(
      "SELECT id, claimed_by FROM regeneration_jobs WHERE status = 'RUNNING' ORDER BY id",
    );
    // One claim statement took a batch; two of its jobs were with the generator, four waited.
    expect(running).toHaveLength(6);
    expect(new Set(running.map((r) => r.claimed_by)).size).toBe(1);
    const killed = running.map((r) => r.id);
    expect(killed).toEqual(expect.arrayContaining([...seenAtKill.keys()]));

    // The lease lapses: moved by backdating it, never by waiting.
    await t.raw.query(
      "UPDATE regeneration_jobs SET lease_expires_at = now() - interval '1 second' WHERE id = ANY($1)",
      [killed],
    );
    service.release();
    const next = spawnWorker(["--once"], env);
    expect(await next.exited, next.output()).toBe(0);
    expect(next.output()).toMatch(/claimed 6, completed 6, failed 0, swept 6/);

    const { rows: jobs } = await t.raw.query<{ id: string; status: string; error: JobError }>(
      "SELECT id, status, error FROM regeneration_jobs",
    );
    for (const job of jobs) {
      if (killed.includes(job.id)) {
        expect(job).toMatchObject({ status: "FAILED", error: { code: "LEASE_EXPIRED" } });
      } else {
        expect(job.status).toBe("COMPLETED");
      }
    }
    const { rows: claims } = await t.raw.query<{ subject_id: string; n: number }>(
      `SELECT subject_id, count(*)::int AS n FROM audit_events
       WHERE type = 'JOB_CLAIMED' GROUP BY subject_id`,
    );
    expect(claims).toHaveLength(ids.length);
    expect(claims.every((c) => c.n === 1)).toBe(true);
    // The service saw each job at most once, and none of the killed worker's jobs again.
    expect([...service.seen.values()].every((n) => n === 1)).toBe(true);
    for (const id of killed) expect(service.seen.get(id)).toBe(seenAtKill.get(id));
    expect((await checkInvariants(t.raw)).violations).toEqual([]);
  }, 180_000);
});

describe("PostgreSQL ending every Regent connection again and again under a mixed load", () => {
  let t: TestDatabase;
  let regent: StartedRegent;
  beforeAll(async () => {
    t = await freshDatabase();
    regent = await startRegent({
      DATABASE_URL: t.url,
      REGENT_BOOTSTRAP_ADMIN_TOKEN: adminToken,
      WORKER_INTERVAL_MS: "100",
      // A lease that lapses soon, so a job whose finish was lost is swept within the test.
      JOB_TIMEOUT_MS: "5000",
      WORKER_LEASE_SECONDS: "10",
    });
  });
  afterAll(async () => {
    await regent?.stop();
  });

  it("answers 503 and nothing else 5xx, loses no acknowledged write and keeps every invariant", async () => {
    const killer = new pg.Client({ connectionString: t.url });
    await killer.connect();
    let loadDone = false;
    let rounds = 0;
    let ended = 0;
    const faults = (async () => {
      while (!loadDone) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (loadDone) break;
        ended += await terminateRegentBackends(killer, t.name);
        rounds += 1;
      }
    })();
    const load = await runMixedLoad({
      url: regent.url,
      token: adminToken,
      connections: 16,
      durationMs: 10_000,
      maxRequests: 50_000,
      requestTimeoutMs: 30_000,
    }).finally(() => {
      loadDone = true;
    });
    await faults;
    await killer.end();

    const statuses: Record<string, number> = {};
    for (const kind of LOAD_KINDS) {
      for (const [status, n] of Object.entries(load.byKind[kind].statuses)) {
        statuses[`${kind} ${status}`] = n;
      }
    }
    const { rows: committedAnyway } = await t.raw.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM regeneration_jobs WHERE input->>'text' = ANY($1)",
      [load.unavailableSubmitTexts],
    );
    const { rows: failures } = await t.raw.query<{ code: string; n: number }>(
      `SELECT error->>'code' AS code, count(*)::int AS n FROM regeneration_jobs
       WHERE status = 'FAILED' GROUP BY 1 ORDER BY 1`,
    );
    console.log(
      JSON.stringify({
        failedJobsByCode: Object.fromEntries(failures.map((f) => [f.code, f.n])),
        requests: load.requests,
        faultRounds: rounds,
        sessionsEnded: ended,
        statuses,
        unanswered: load.unanswered,
        acknowledgedJobs: load.acknowledged.jobs.length,
        acknowledgedIntents: load.acknowledged.intents.length,
        unavailableSubmits: load.unavailableSubmitTexts.length,
        unavailableSubmitsCommittedAnyway: committedAnyway[0]?.n,
      }),
    );

    expect(rounds).toBeGreaterThanOrEqual(5);
    expect(ended).toBeGreaterThan(0);
    expect(load.unanswered, JSON.stringify(load.unansweredReasons)).toBe(0);
    expect(serverErrors(load, [503])).toBe(0);
    expect(answersWith(load, 503)).toBeGreaterThan(0);
    expect(load.unavailableWithoutRetryAfter).toBe(0);
    // Refusals are the ones a retried request earns (the first attempt did commit), never others.
    for (const kind of LOAD_KINDS) {
      for (const status of Object.keys(load.byKind[kind].statuses).map(Number)) {
        expect([200, 201, 409, 503], `${kind} answered ${status}`).toContain(status);
      }
    }
    expect(load.acknowledged.jobs.length).toBeGreaterThan(0);

    await expectServingAndWorking(regent, "after the storm");
    const report = await checkInvariants(t.raw, load.acknowledged);
    expect(report.violations).toEqual([]);
    expect(regent.output()).not.toMatch(CRASH);
  }, 180_000);
});
