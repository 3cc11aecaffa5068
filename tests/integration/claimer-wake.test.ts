import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { JOB_CREATED_CHANNEL, listenForNotifications } from "../../db/notifications";
import { loadConfig } from "../../functions/config/api";
import { createApiToken } from "../../functions/domain/api-tokens";
import { type InvocationOptions, runWorkerInvocation } from "../../functions/execution/invocation";
import { startWorkerLoop, type WorkerLoop } from "../../functions/execution/loop";
import type { WakeClaimer } from "../../functions/http/wake";
import { createServer } from "../../functions/server";
import { AdminClient } from "../helpers/admin";
import { call, type JsonBody } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { failedJob, failedJobOf } from "../helpers/fixtures";
import { eventually } from "../helpers/start-server";

/**
 * Jobs start when they are created, not at the claimer's next tick: the server signals the
 * claimer after a request that created jobs, the loop of `npm start` wakes on that signal, and
 * `npm run worker` on PostgreSQL's notification. Every loop here ticks once an hour, so a job
 * that runs during the test was started by a wake-up.
 */
let t: TestDatabase;
let admin: string;
let submitter: string;
const HOUR = 3_600_000;
const quiet: Pick<InvocationOptions, "budgetMs" | "batchSize" | "concurrency"> = {
  budgetMs: 10_000,
  batchSize: 50,
  concurrency: 4,
};

beforeAll(async () => {
  t = await freshDatabase();
  const cli = { actor: "test" };
  admin = (await createApiToken(t.db, cli, { name: "a", role: "admin" })).token;
  submitter = (await createApiToken(t.db, cli, { name: "s", role: "submitter" })).token;
});

function server(wakeClaimer: WakeClaimer) {
  return createServer({
    db: t.db,
    config: loadConfig({ SESSION_SECRET: "a-session-secret-of-at-least-32-characters" }),
    wakeClaimer,
  });
}

/** A loop that ticks hourly, started once its first (immediate) invocation has ended. */
async function hourlyLoop(): Promise<{ loop: WorkerLoop; invocations: () => number }> {
  let invocations = 0;
  let first: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    first = resolve;
  });
  const loop = startWorkerLoop(t.db, {
    ...quiet,
    intervalMs: HOUR,
    logIdle: true,
    log: () => {
      invocations += 1;
      first();
    },
  });
  await started;
  return { loop, invocations: () => invocations };
}

async function statusOf(id: string): Promise<string> {
  const { rows } = await t.raw.query("SELECT status FROM regeneration_jobs WHERE id = $1", [id]);
  return rows[0]?.status;
}

const completed = (id: string) =>
  eventually(async () => ((await statusOf(id)) === "COMPLETED" ? true : undefined), id, 20_000);

describe("waking the claimer when jobs are created", () => {
  it("runs a submitted job at once, though the loop's next tick is an hour away", async () => {
    const { loop, invocations } = await hourlyLoop();
    try {
      const app = server(() => loop.wake());
      const submitted = await call(app, "POST", "/api/jobs", {
        token: submitter,
        body: { generator: "demo", input: { text: "now" } },
      });
      expect(submitted.status).toBe(201);
      await completed(submitted.body.job.id);
      expect(invocations()).toBeGreaterThanOrEqual(2);
    } finally {
      await loop.stop();
    }
  });

  it("wakes it after an execute and a batch execute, not after what creates no job", async () => {
    const woken: string[] = [];
    const app = server(() => woken.push("woken"));
    const intent = async () => {
      const job = await failedJob(t.db);
      const created = await call(app, "POST", "/api/admin/retry-intents", {
        token: admin,
        body: { sourceJobId: job.id, reasonCode: "INFRA_ERROR", reasonText: "wake test" },
      });
      expect(created.status).toBe(201);
      return created.body.intent.id as string;
    };
    const before = woken.length;
    expect(
      (
        await call(app, "POST", `/api/admin/retry-intents/${await intent()}/execute`, {
          token: admin,
        })
      ).status,
    ).toBe(201);
    expect(woken.length).toBe(before + 1);

    // Recording an intent or a refused execute creates no job: no wake-up.
    const id = await intent();
    const refused = await call(app, "POST", `/api/admin/retry-intents/${id}/reject`, {
      token: admin,
      body: { reasonText: "not now" },
    });
    expect(refused.status).toBe(200);
    const late = await call(app, "POST", `/api/admin/retry-intents/${id}/execute`, {
      token: admin,
    });
    expect(late.status).toBe(409);
    expect(woken.length).toBe(before + 1);

    await failedJobOf(t.db, "demo", "WAKE_BATCH");
    const filter = { generator: "demo", errorCode: "WAKE_BATCH" };
    const preview = await call<JsonBody>(app, "POST", "/api/admin/retry-batches/preview", {
      token: admin,
      body: { filter },
    });
    expect(preview.status).toBe(200);
    const batch = await call<JsonBody>(app, "POST", "/api/admin/retry-batches", {
      token: admin,
      body: {
        filter,
        previewToken: preview.body.previewToken,
        reasonCode: "INFRA_ERROR",
        reasonText: "wake test batch",
      },
    });
    expect(batch.status).toBe(201);
    const executed = await call(
      app,
      "POST",
      `/api/admin/retry-batches/${batch.body.batch.id}/execute`,
      { token: admin },
    );
    expect(executed.status).toBeLessThan(300);
    expect(woken.length).toBe(before + 2);
  });

  it("wakes it after the admin page's execute form", async () => {
    let woken = 0;
    const app = server(() => {
      woken += 1;
    });
    const client = new AdminClient(app);
    expect((await client.signIn(admin)).status).toBe(303);
    const job = await failedJob(t.db);
    const created = await call(app, "POST", "/api/admin/retry-intents", {
      token: admin,
      body: { sourceJobId: job.id, reasonCode: "INFRA_ERROR", reasonText: "wake from the page" },
    });
    const path = `/admin/retry-intents/${created.body.intent.id}/execute`;
    const before = woken;
    const executed = await client.post(path, {}, { from: path });
    expect(executed.status).toBe(303);
    expect(woken).toBe(before + 1);
  });

  it("takes duplicate wake-ups in its stride: every job runs once", async () => {
    const { loop, invocations } = await hourlyLoop();
    try {
      const app = server(() => {
        loop.wake();
        loop.wake();
      });
      const submits = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          call(app, "POST", "/api/jobs", {
            token: submitter,
            body: { generator: "demo", input: { text: `twin ${i}` } },
          }),
        ),
      );
      const ids = submits.map((s) => s.body.job.id as string);
      for (let i = 0; i < ids.length; i++) loop.wake();
      for (const id of ids) await completed(id);
      const { rows } = await t.raw.query(
        `SELECT subject_id, count(*)::int AS n FROM audit_events
         WHERE type = 'JOB_CLAIMED' AND subject_id = ANY($1) GROUP BY subject_id`,
        [ids],
      );
      expect(rows).toHaveLength(ids.length);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      // Wake-ups that arrive during an invocation become one more invocation, not one each.
      expect(invocations()).toBeLessThan(2 + ids.length * 3);
    } finally {
      await loop.stop();
    }
  });

  it("answers the submit even when the signal fails or throws", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      for (const wake of [
        () => Promise.reject(new Error("the claimer is unreachable")),
        () => {
          throw new Error("no claimer at all");
        },
      ]) {
        const submitted = await call(server(wake), "POST", "/api/jobs", {
          token: submitter,
          body: { generator: "demo", input: { text: "signal lost" } },
        });
        expect(submitted.status).toBe(201);
        expect(await statusOf(submitted.body.job.id)).toBe("PENDING");
      }
      await eventually(async () => (warn.mock.calls.length >= 2 ? true : undefined), "warnings");
      expect(warn.mock.calls.map(([line]) => JSON.parse(String(line)).event)).toEqual([
        "claimer.wake.failed",
        "claimer.wake.failed",
      ]);
      // The Cron, or the loop's interval, still runs them.
      await runWorkerInvocation(t.db, { ...quiet, log: () => {} });
    } finally {
      warn.mockRestore();
    }
  });
});

describe("listening on PostgreSQL's job-created channel (npm run worker)", () => {
  let notified = 0;
  const listener = { stop: async () => {} };
  afterAll(() => listener.stop());

  async function listenerPid(): Promise<number | undefined> {
    const { rows } = await t.raw.query(
      `SELECT pid FROM pg_stat_activity
       WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`,
    );
    return rows[0]?.pid;
  }

  it("is told of every notification on the channel", async () => {
    Object.assign(
      listener,
      listenForNotifications(t.url, JOB_CREATED_CHANNEL, () => notified++, {
        retryMs: 50,
        log: () => {},
      }),
    );
    await eventually(listenerPid, "the listening connection");
    await t.raw.query(`NOTIFY ${JOB_CREATED_CHANNEL}`);
    await t.raw.query("NOTIFY some_other_channel");
    await eventually(async () => (notified === 1 ? true : undefined), "the notification");
  });

  it("listens again after its connection is killed, and catches up once", async () => {
    const pid = await listenerPid();
    expect(pid).toBeDefined();
    const before = notified;
    await t.raw.query("SELECT pg_terminate_backend($1)", [pid]);
    // Reconnected: a new backend, and one call for what may have been missed meanwhile.
    await eventually(async () => {
      const next = await listenerPid();
      return next !== undefined && next !== pid ? next : undefined;
    }, "a new listening connection");
    await eventually(async () => (notified === before + 1 ? true : undefined), "the catch-up");
    await t.raw.query(`NOTIFY ${JOB_CREATED_CHANNEL}`);
    await eventually(async () => (notified === before + 2 ? true : undefined), "a notification");
  });
});
