/**
 * The worker's alert digest, sent to a receiver on 127.0.0.1 that stands in for the outside
 * world: it checks each digest's signature the way a real receiver would, answers as each test
 * asks (200, 500, nothing at all) and records what it got.
 */
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import {
  type AlertDigest,
  type AlertSettings,
  sendAlertDigest,
} from "../../functions/execution/alerts";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { catalogue } from "../helpers/catalog";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, failJob, secondAdmin, submitter } from "../helpers/fixtures";
import { rawClaim } from "../helpers/signals";
import { logSink } from "../helpers/worker";

const SECRET = "alert-signing-secret-0123456789";
const CALM = { factor: 3, min: 1000 };

interface Received {
  body: string;
  signature: string | undefined;
  contentType: string | undefined;
  digest: AlertDigest;
  /** Whether the signature is the HMAC-SHA256 of the body under SECRET, checked as a receiver does. */
  signed: boolean;
}

/** A webhook receiver: `answer` decides each response; `hold` leaves requests unanswered. */
function receiver() {
  const received: Received[] = [];
  const held: ServerResponse[] = [];
  let answer: number | "hold" = 200;
  let arrived: (() => void) | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const signature = req.headers["regent-signature"] as string | undefined;
      const expected = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
      received.push({
        body,
        signature,
        contentType: req.headers["content-type"],
        digest: JSON.parse(body) as AlertDigest,
        signed: signature === expected,
      });
      arrived?.();
      if (answer === "hold") {
        held.push(res);
        return;
      }
      res.writeHead(answer, { "content-type": "text/plain" }).end(answer === 200 ? "ok" : "no");
    });
  });
  return {
    received,
    url: "",
    answerWith(next: number | "hold") {
      answer = next;
    },
    nextRequest: () =>
      new Promise<void>((resolve) => {
        arrived = resolve;
      }),
    release() {
      for (const res of held.splice(0)) res.writeHead(200).end("ok");
    },
    async start() {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/regent`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const res of held.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

let t: TestDatabase;
const hook = receiver();

const settings = (overrides: Partial<AlertSettings> = {}): AlertSettings => ({
  url: hook.url,
  secret: SECRET,
  surge: CALM,
  ...overrides,
});

async function work(alerts: AlertSettings = settings()) {
  const sink = logSink();
  const result = await runWorkerInvocation(t.db, {
    budgetMs: 10_000,
    concurrency: 4,
    batchSize: 10,
    log: sink.log,
    alerts,
  });
  return { result, line: JSON.parse(sink.lines[0] ?? "{}") as Record<string, unknown> };
}

async function alertEvents() {
  const { rows } = await t.raw.query<{
    actor: string;
    subject_type: string;
    subject_id: string;
    data: Record<string, unknown>;
  }>(
    "SELECT actor, subject_type, subject_id, data FROM audit_events WHERE type = 'ALERT_SENT' ORDER BY id",
  );
  return rows;
}

async function lastFailedEventId(): Promise<number> {
  const { rows } = await t.raw.query<{ id: string }>(
    "SELECT max(id) AS id FROM audit_events WHERE type = 'JOB_FAILED'",
  );
  return Number(rows[0]?.id ?? 0);
}

/** A generator the worker does not run is still one the catalog may list: catalogued first. */
const submit = async (generator: string, input: unknown) => {
  await catalogue(t.db, generator);
  return submitJob(t.db, submitter, { generator, input });
};

beforeAll(async () => {
  t = await freshDatabase();
  await hook.start();
});

afterAll(async () => {
  await hook.stop();
});

describe("the alert digest", () => {
  let first: AlertDigest;

  it("is sent once at the end of an invocation, signed, with the new failures by generator and code", async () => {
    await submit("demo", { text: "a", failAttempts: 1 });
    await submit("demo", { text: "b", failAttempts: 1 });
    await submit("nope", {});
    await submit("demo", { text: "fine" });
    const { result, line } = await work();

    expect(result).toMatchObject({ completed: 1, failed: 3 });
    expect(result.alert).toMatchObject({ status: "sent", failures: 3, surge: null });
    expect(line.alert).toBe("sent");
    expect(hook.received).toHaveLength(1);
    const got = hook.received[0] as Received;
    expect(got.signed).toBe(true);
    expect(got.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(got.contentType).toBe("application/json");
    first = got.digest;
    expect(first).toMatchObject({
      type: "regent.alert-digest",
      sender: `worker:${result.invocationId}`,
      failures: {
        total: 3,
        afterEventId: 0,
        throughEventId: await lastFailedEventId(),
        byGeneratorAndCode: [
          { generator: "demo", errorCode: "DEMO_FAILURE", count: 2 },
          { generator: "nope", errorCode: "UNKNOWN_GENERATOR", count: 1 },
        ],
        omittedGroups: 0,
      },
      surge: { surging: false, started: false, ended: false, factor: 3, min: 1000 },
    });
    expect(Number.isNaN(Date.parse(first.sentAt))).toBe(false);
  });

  it("is audited as ALERT_SENT by the invocation, holding the new high-water mark", async () => {
    const events = await alertEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: expect.stringMatching(/^worker:/),
      subject_type: "alert",
      subject_id: first.id,
      data: {
        afterEventId: 0,
        throughEventId: first.failures.throughEventId,
        failures: 3,
        surging: false,
        receiverStatus: 200,
      },
    });
    expect(events[0]?.actor).toBe(first.sender);
  });

  it("is not sent when nothing new happened", async () => {
    const { result, line } = await work();
    expect(result.alert).toEqual({ status: "quiet" });
    expect(line.alert).toBe("quiet");
    expect(hook.received).toHaveLength(1);
    expect(await alertEvents()).toHaveLength(1);
  });

  it("survives a receiver that refuses, one that is not there and one that does not answer; the next one gets it all", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      hook.answerWith(500);
      await submit("demo", { text: "c", failAttempts: 1 });
      const refused = await work();
      expect(refused.result).toMatchObject({ failed: 1 });
      expect(refused.result.alert).toEqual({
        status: "failed",
        error: "the alert receiver answered 500",
      });
      expect(refused.line.alert).toBe("failed");
      expect(hook.received).toHaveLength(2);

      await submit("http", {});
      const absent = await work(settings({ url: `http://127.0.0.1:${await closedPort()}/` }));
      expect(absent.result.alert).toMatchObject({
        status: "failed",
        error: expect.stringMatching(/could not be reached/),
      });

      hook.answerWith("hold");
      const silent = await work(settings({ timeoutMs: 300 }));
      expect(silent.result.alert).toEqual({
        status: "failed",
        error: "the alert receiver did not answer within 300 ms",
      });
      hook.release();

      expect(await alertEvents()).toHaveLength(1);
      expect(warn).toHaveBeenCalledTimes(3);
      expect(JSON.parse(String(warn.mock.calls[0]?.[0]))).toMatchObject({
        event: "worker.alert.failed",
        invocationId: refused.result.invocationId,
      });
    } finally {
      warn.mockRestore();
    }

    hook.answerWith(200);
    const { result } = await work();
    expect(result.alert).toMatchObject({ status: "sent", failures: 2 });
    const digest = hook.received.at(-1)?.digest as AlertDigest;
    expect(hook.received.at(-1)?.signed).toBe(true);
    expect(digest.failures).toMatchObject({
      total: 2,
      afterEventId: first.failures.throughEventId,
      throughEventId: await lastFailedEventId(),
      byGeneratorAndCode: [
        { generator: "demo", errorCode: "DEMO_FAILURE", count: 1 },
        { generator: "http", errorCode: "HTTP_NOT_CONFIGURED", count: 1 },
      ],
    });
    expect(await alertEvents()).toHaveLength(2);
  });

  it("is sent by one worker only while another holds the lock", async () => {
    const job = await submit("demo", { text: "d" });
    await failJob(t.db, job.id, "BY_HAND");
    hook.answerWith("hold");
    const arrived = hook.nextRequest();
    const holder = sendAlertDigest(t.db, settings(), "worker:one");
    await arrived;
    expect(await sendAlertDigest(t.db, settings(), "worker:two")).toEqual({ status: "busy" });
    hook.release();
    expect(await holder).toMatchObject({ status: "sent", failures: 1 });
    hook.answerWith(200);
    expect(await sendAlertDigest(t.db, settings(), "worker:two")).toEqual({ status: "quiet" });
    const events = await alertEvents();
    expect(events).toHaveLength(3);
    expect(events[2]?.actor).toBe("worker:one");
  });

  it("never passes over a failure committed by a transaction still open when it read a later one", async () => {
    const early = await submit("demo", { text: "early" });
    const late = await submit("demo", { text: "late" });
    await rawClaim(t.raw, early.id);
    const open = new pg.Client({ connectionString: t.url });
    await open.connect();
    try {
      // The early failure takes its event id first, and stays uncommitted.
      await open.query("BEGIN");
      await open.query(
        `UPDATE regeneration_jobs SET status = 'FAILED', finished_at = now(),
           error = '{"code":"OPEN_TX","message":"failed in an open transaction"}' WHERE id = $1`,
        [early.id],
      );
      await open.query(
        `INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
         VALUES ('JOB_FAILED', 'worker:slow', 'job', $1, '{"code":"OPEN_TX"}')`,
        [early.id],
      );
      // A later failure, committed, with a higher event id.
      await failJob(t.db, late.id, "AFTER_IT");
      const held = await sendAlertDigest(t.db, settings({ finalWaitMs: 200 }), "worker:one");
      expect(held).toEqual({ status: "quiet" });
      await open.query("COMMIT");
    } finally {
      await open.end();
    }
    const before = hook.received.length;
    expect(await sendAlertDigest(t.db, settings(), "worker:one")).toMatchObject({
      status: "sent",
      failures: 2,
    });
    const digest = (hook.received[before] as Received).digest;
    expect(digest.failures.byGeneratorAndCode).toEqual(
      expect.arrayContaining([
        { generator: "demo", errorCode: "OPEN_TX", count: 1 },
        { generator: "demo", errorCode: "AFTER_IT", count: 1 },
      ]),
    );
  });

  it("tells when a surge of retries starts, once, and when it ends", async () => {
    const surging = settings({ surge: { factor: 3, min: 2 } });
    for (let i = 0; i < 2; i++) {
      const source = await submit("demo", { text: `retry me ${i}` });
      await failJob(t.db, source.id, "UPSTREAM_DOWN");
      const intent = await createRetryIntent(t.db, admin, {
        sourceJobId: source.id,
        reasonCode: "TRANSIENT_FAILURE",
        reasonText: "upstream is back",
      });
      await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
    }
    const started = await work(surging);
    expect(started.result).toMatchObject({ claimed: 2, completed: 2, failed: 0 });
    expect(started.result.alert).toMatchObject({ status: "sent", surge: "started" });
    const digest = hook.received.at(-1)?.digest as AlertDigest;
    expect(digest.surge).toEqual({
      surging: true,
      started: true,
      ended: false,
      lastHour: 2,
      trailingHourlyMean: 0,
      factor: 3,
      min: 2,
    });
    expect(digest.failures.total).toBe(2);

    expect((await work(surging)).result.alert).toEqual({ status: "quiet" });

    const ended = await work(settings({ surge: { factor: 3, min: 3 } }));
    expect(ended.result.alert).toMatchObject({ status: "sent", failures: 0, surge: "ended" });
    expect(hook.received.at(-1)?.digest.surge).toMatchObject({ surging: false, ended: true });
    // Three digests earlier in this file, one for the open transaction's failures, two here.
    expect(await alertEvents()).toHaveLength(6);
  });

  it("stays off without settings", async () => {
    await submit("nope", {});
    const before = hook.received.length;
    const result = await runWorkerInvocation(t.db, {
      budgetMs: 10_000,
      concurrency: 4,
      batchSize: 10,
      log: () => {},
    });
    expect(result).toMatchObject({ failed: 1 });
    expect(result.alert).toBeUndefined();
    expect(hook.received).toHaveLength(before);
  });
});
