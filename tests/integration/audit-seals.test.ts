import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { connect } from "../../db/client";
import { migrate } from "../../db/migrate";
import { type Executor, rowsOf } from "../../db/types";
import { auditSealLag, sealAudit, verifyAudit } from "../../functions/domain/audit-seals";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent, rejectRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { builtInCatalog } from "../../functions/execution/generators";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, secondAdmin, submitter } from "../helpers/fixtures";
import { logSink } from "../helpers/worker";

/**
 * Seals make a superuser's edits to the audit log visible. Each attack below is made the way a
 * superuser would make it, through the test's raw client (a superuser): switch the insert-only
 * trigger off, or write an event with a chosen id. Each runs on a database of its own, with the
 * same real activity sealed first, so that one attack cannot hide or cause another's finding.
 *
 * Whether a seal can advance depends on every transaction on the server, since transaction ids
 * are cluster-wide: waits are loops until the condition holds, bounded, never timings. For the
 * same reason the tests run in turn: one holding a transaction open holds back every other's.
 */

const run = promisify(execFile);
const SEAL_PATIENCE_MS = 120_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const work = (db: Executor, log: (line: string) => void = () => {}) =>
  runWorkerInvocation(db, { budgetMs: 10_000, concurrency: 4, batchSize: 10, log });

const regent = (t: TestDatabase, args: string[]) =>
  run("npm", ["run", "--silent", "regent", "--", ...args], {
    env: { ...process.env, DATABASE_URL: t.url },
  });

/** The CLI's verdict, whatever its exit code. */
async function cliVerify(
  t: TestDatabase,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await regent(t, ["audit", "verify"]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function newestEventId(t: TestDatabase): Promise<number> {
  const { rows } = await t.raw.query("SELECT coalesce(max(id), 0)::int AS id FROM audit_events");
  return rows[0].id;
}

/** Events with ids up to `upTo`: fewer than the newest id when an insert was rolled back. */
async function eventsThrough(t: TestDatabase, upTo: number): Promise<number> {
  const { rows } = await t.raw.query("SELECT count(*)::int AS n FROM audit_events WHERE id <= $1", [
    upTo,
  ]);
  return rows[0].n;
}

async function sealCount(t: TestDatabase): Promise<number> {
  const { rows } = await t.raw.query("SELECT count(*)::int AS n FROM audit_seals");
  return rows[0].n;
}

/** The seal whose range holds `eventId`. */
async function sealOf(t: TestDatabase, eventId: number): Promise<number> {
  const { rows } = await t.raw.query(
    "SELECT id::int FROM audit_seals WHERE from_event_id < $1 AND to_event_id >= $1",
    [eventId],
  );
  if (!rows[0]) throw new Error(`no seal covers event ${eventId}`);
  return rows[0].id;
}

/**
 * Seals until a seal covers `eventId`. Any transaction open anywhere on the server (another
 * test file's, say) holds sealing back until it ends, so this waits long, and says for whom
 * when it gives up.
 */
async function sealThrough(db: Executor, eventId: number): Promise<void> {
  const giveUpAt = Date.now() + SEAL_PATIENCE_MS;
  while (Date.now() < giveUpAt) {
    await sealAudit(db, "test");
    const [head] = rowsOf<{ to: number }>(
      await db.execute(sql`SELECT coalesce(max(to_event_id), 0)::int AS to FROM audit_seals`),
    );
    if ((head?.to ?? 0) >= eventId) return;
    await pause(50);
  }
  const lag = await auditSealLag(db);
  throw new Error(`no seal covered event ${eventId}: ${JSON.stringify(lag)}`);
}

/**
 * Jobs submitted, failed by the worker, one retried through an approved intent and completed,
 * another's intent rejected; and an audit id left unused by a rolled-back insert, between
 * events, for the "added" attack. Then sealed through the newest event.
 */
async function sealedActivity(): Promise<{ t: TestDatabase; gap: number; failedEvent: number }> {
  const t = await freshDatabase();
  const flaky = await submitJob(t.db, submitter, {
    generator: "demo",
    input: { text: "flaky", failAttempts: 1 },
  });
  const broken = await submitJob(t.db, submitter, {
    generator: "demo",
    input: { text: "broken", failAttempts: 5 },
  });
  await submitJob(t.db, submitter, { generator: "demo", input: { text: "fine" } });
  await work(t.db);

  await t.raw.query("BEGIN");
  const { rows } = await t.raw.query(
    `INSERT INTO audit_events (type, actor, subject_type, subject_id)
     VALUES ('JOB_CREATED', 'test', 'job', 'never') RETURNING id::int`,
  );
  await t.raw.query("ROLLBACK");
  const gap = rows[0].id as number;

  const intent = await createRetryIntent(t.db, admin, {
    sourceJobId: flaky.id,
    reasonCode: "TRANSIENT_FAILURE",
    reasonText: "fails once on purpose",
  });
  await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
  const declined = await createRetryIntent(t.db, admin, {
    sourceJobId: broken.id,
    reasonCode: "BAD_INPUT",
    reasonText: "would fail again",
  });
  await rejectRetryIntent(t.db, secondAdmin, declined.id, "not worth it");
  await work(t.db);

  await sealThrough(t.db, await newestEventId(t));
  const failed = await t.raw.query(
    "SELECT id::int FROM audit_events WHERE subject_id = $1 AND type = 'JOB_FAILED'",
    [flaky.id],
  );
  return { t, gap, failedEvent: failed.rows[0].id };
}

describe("audit seals on PostgreSQL", { timeout: 2 * SEAL_PATIENCE_MS + 60_000 }, () => {
  it("an untampered log verifies, events after the last seal are reported unsealed, and the verdict does not depend on the session's time zone", async () => {
    const { t } = await sealedActivity();
    const sealed = await newestEventId(t);
    await submitJob(t.db, submitter, { generator: "demo", input: { text: "later 1" } });
    await submitJob(t.db, submitter, { generator: "demo", input: { text: "later 2" } });

    const verdict = await verifyAudit(t.db);
    const seals = await sealCount(t);
    const events = await eventsThrough(t, sealed);
    expect(verdict).toMatchObject({ ok: true, seals, events, unsealed: 2 });
    if (!verdict.ok || !verdict.head) throw new Error("expected a head seal");
    expect(verdict.head.toEventId).toBe(sealed);
    expect(verdict.head.digest).toMatch(/^[0-9a-f]{64}$/);

    const cli = await cliVerify(t);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(
      `audit log intact: ${seals} seals, ${events} events sealed, 2 not yet sealed`,
    );
    expect(cli.stdout).toContain(`digest ${verdict.head.digest}`);

    // A timestamptz turns into JSON in the session's zone; the fingerprint must not.
    await t.raw.query("SET TimeZone = 'Pacific/Chatham'");
    expect((await t.raw.query("SELECT * FROM regent_verify_audit()")).rows).toEqual([]);
    await t.raw.query("RESET TimeZone");
  });

  it("names an event changed behind the seal's back, in the domain and in the CLI (exit 1)", async () => {
    const { t, failedEvent } = await sealedActivity();
    const seal = await sealOf(t, failedEvent);
    await t.raw.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_insert_only");
    await t.raw.query(
      `UPDATE audit_events SET data = data || '{"code": "NOTHING_FAILED"}' WHERE id = $1`,
      [failedEvent],
    );

    expect(await verifyAudit(t.db)).toEqual({
      ok: false,
      sealId: seal,
      eventId: failedEvent,
      problem: "changed",
    });
    const cli = await cliVerify(t);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`event ${failedEvent} was changed after seal ${seal}`);
  });

  it("names an event removed behind the seal's back", async () => {
    const { t, failedEvent } = await sealedActivity();
    const seal = await sealOf(t, failedEvent);
    await t.raw.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_insert_only");
    await t.raw.query("DELETE FROM audit_events WHERE id = $1", [failedEvent]);

    expect(await verifyAudit(t.db)).toEqual({
      ok: false,
      sealId: seal,
      eventId: failedEvent,
      problem: "removed",
    });
    const cli = await cliVerify(t);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`event ${failedEvent} was removed after seal ${seal}`);
  });

  it("names an event backdated into a sealed range (an id a rolled-back insert left unused)", async () => {
    const { t, gap } = await sealedActivity();
    const seal = await sealOf(t, gap);
    const { rows } = await t.raw.query(
      "SELECT event_ids::text FROM audit_seals WHERE id = $1 AND NOT ($2 = ANY (event_ids))",
      [seal, gap],
    );
    expect(rows).toHaveLength(1);
    // No trigger needs switching off: any client may insert, even with an id of its choice.
    await t.raw.query(
      `INSERT INTO audit_events (id, type, actor, subject_type, subject_id)
       OVERRIDING SYSTEM VALUE VALUES ($1, 'RETRY_INTENT_CREATED', 'admin:mallory', 'job', 'x')`,
      [gap],
    );

    expect(await verifyAudit(t.db)).toEqual({
      ok: false,
      sealId: seal,
      eventId: gap,
      problem: "added",
    });
    const cli = await cliVerify(t);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`event ${gap} was added after seal ${seal}`);
  });

  it("names a seal that was altered or removed: the chain breaks there", async () => {
    const { t, failedEvent } = await sealedActivity();
    const seal = await sealOf(t, failedEvent);
    expect(seal).toBeLessThan(await sealCount(t));
    await t.raw.query("ALTER TABLE audit_seals DISABLE TRIGGER audit_seals_insert_only");
    const { rows } = await t.raw.query("SELECT digest FROM audit_seals WHERE id = $1", [seal]);
    const digest = rows[0].digest as string;
    await t.raw.query("UPDATE audit_seals SET digest = $2 WHERE id = $1", [
      seal,
      digest.replace(/^./, (c) => (c === "0" ? "1" : "0")),
    ]);

    expect(await verifyAudit(t.db)).toEqual({
      ok: false,
      sealId: seal,
      eventId: undefined,
      problem: "seal chain broken",
    });
    const cli = await cliVerify(t);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`the seal chain is broken at seal ${seal}`);

    // Put back, the chain holds again: the check is exact, not a heuristic.
    await t.raw.query("UPDATE audit_seals SET digest = $2 WHERE id = $1", [seal, digest]);
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true });
    const next = await t.raw.query("SELECT min(id)::int AS id FROM audit_seals WHERE id > $1", [
      seal,
    ]);
    await t.raw.query("DELETE FROM audit_seals WHERE id = $1", [seal]);
    expect(await verifyAudit(t.db)).toEqual({
      ok: false,
      sealId: next.rows[0].id,
      eventId: undefined,
      problem: "seal chain broken",
    });
  });

  it("a seal never covers the id of an audit event whose transaction is still open; once it commits, a later seal does", async () => {
    const { t } = await sealedActivity();
    const writer = new pg.Client({ connectionString: t.url });
    await writer.connect();
    try {
      await writer.query("BEGIN");
      const { rows } = await writer.query(
        `INSERT INTO audit_events (type, actor, subject_type, subject_id)
         VALUES ('JOB_CREATED', 'test', 'job', 'slow') RETURNING id::int`,
      );
      const open = rows[0].id as number;
      await submitJob(t.db, submitter, { generator: "demo", input: { text: "x" } });
      const committed = await newestEventId(t);
      expect(committed).toBeGreaterThan(open);

      // Seal until a seal's watermark has passed the open event: from then on only the open
      // transaction holds sealing back. Before that, a transaction of another database on the
      // same server (another test's) may hold it back too, and for a while only.
      for (let attempt = 0; ; attempt++) {
        const seal = await sealAudit(t.db, "test");
        if (seal) expect(seal.toEventId).toBeLessThan(open);
        const { rows: last } = await t.raw.query(
          "SELECT next_watermark_id::int AS watermark FROM audit_seals ORDER BY id DESC LIMIT 1",
        );
        if (last[0].watermark >= committed) break;
        if (attempt === 600) throw new Error("no seal set its watermark past the open event");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await auditSealLag(t.db)).toMatchObject({ reason: "waiting" });
      const waiting = await regent(t, ["audit", "seal"]);
      expect(waiting.stdout).toMatch(/nothing became final yet: a transaction already open/);

      await writer.query("COMMIT");
      await sealThrough(t.db, committed);
      const { rows: covering } = await t.raw.query(
        "SELECT id FROM audit_seals WHERE $1 = ANY (event_ids)",
        [open],
      );
      expect(covering).toHaveLength(1);
      expect(await verifyAudit(t.db)).toMatchObject({ ok: true, unsealed: 0 });
    } finally {
      await writer.end();
    }
  });

  it("an event whose id is drawn before its transaction has an xid is still waited for", async () => {
    // Widens, on purpose, the moment between drawing an id and taking a transaction id, which a
    // descheduled backend could otherwise hit: a row trigger that fires before the one that
    // stamps tx_id waits on a lock this test holds, and the row names its own tx_id, so that
    // the column default does not take the xid either.
    const t = await freshDatabase();
    await submitJob(t.db, submitter, { generator: "demo", input: { text: "first" } });
    await sealThrough(t.db, await newestEventId(t));
    await t.raw.query(`CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(7001); RETURN NEW; END $$`);
    await t.raw.query(`CREATE TRIGGER audit_events_0_hold BEFORE INSERT ON audit_events
      FOR EACH ROW WHEN (NEW.actor = 'held') EXECUTE FUNCTION test_hold()`);
    await t.raw.query("SELECT pg_advisory_lock(7001)");
    const writer = new pg.Client({ connectionString: t.url });
    await writer.connect();
    try {
      const held = writer.query(
        `INSERT INTO audit_events (type, actor, subject_type, subject_id, tx_id)
         VALUES ('JOB_CREATED', 'held', 'job', 'held', '0') RETURNING id::int`,
      );
      for (let attempt = 0; ; attempt++) {
        const { rows } = await t.raw.query(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
          [(writer as unknown as { processID: number }).processID],
        );
        if (rows.length > 0) break;
        if (attempt > 400) throw new Error("the writer never reached the held trigger");
        await pause(25);
      }
      await submitJob(t.db, submitter, { generator: "demo", input: { text: "after" } });
      const after = await newestEventId(t);
      for (let attempt = 0; attempt < 10; attempt++) {
        const seal = await sealAudit(t.db, "test");
        if (seal) expect(seal.toEventId).toBeLessThan(after);
      }
      await t.raw.query("SELECT pg_advisory_unlock(7001)");
      const id = (await held).rows[0].id as number;
      expect(id).toBeLessThan(after);
      await sealThrough(t.db, after);
      expect(await verifyAudit(t.db)).toMatchObject({ ok: true });
    } finally {
      await t.raw.query("SELECT pg_advisory_unlock_all()");
      await writer.end();
    }
  });

  it("each worker invocation seals what became final, says so, and an idle one adds no seal", async () => {
    const t = await freshDatabase();
    for (let i = 0; i < 3; i++) {
      await submitJob(t.db, submitter, { generator: "demo", input: { text: `job ${i}` } });
    }
    const sink = logSink();
    const busy = await work(t.db, sink.log);
    expect(busy).toMatchObject({ claimed: 3, completed: 3 });
    expect(busy.sealError).toBeUndefined();
    const last = await newestEventId(t);

    // The invocation's own events are final only after it: a later one seals them.
    let sealedBy: string | undefined;
    const giveUpAt = Date.now() + SEAL_PATIENCE_MS;
    while (!sealedBy && Date.now() < giveUpAt) {
      const result = await work(t.db, sink.log);
      expect(result.sealError).toBeUndefined();
      if (result.sealed > 0) sealedBy = `worker:${result.invocationId}`;
      else await pause(50);
    }
    expect(sealedBy).toBeDefined();
    const verdict = await verifyAudit(t.db);
    expect(verdict).toMatchObject({
      ok: true,
      events: await eventsThrough(t, last),
      unsealed: 0,
    });
    if (verdict.ok) expect(verdict.head?.sealedBy).toBe(sealedBy);
    const lines = sink.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.every((line) => typeof line.sealed === "number")).toBe(true);
    expect(lines.some((line) => (line.sealed as number) > 0)).toBe(true);

    const before = await sealCount(t);
    const idle = await work(t.db, sink.log);
    expect(idle).toMatchObject({ claimed: 0, sealed: 0 });
    expect(await sealCount(t)).toBe(before);
    expect(await auditSealLag(t.db)).toMatchObject({ reason: "caught up" });
    const { stdout } = await regent(t, ["audit", "seal"]);
    expect(stdout).toMatch(/nothing to seal: every event up to \d+ is sealed/);
  });

  it("a seal that fails is logged on the invocation's line and never fails the invocation", async () => {
    const t = await freshDatabase();
    await submitJob(t.db, submitter, { generator: "demo", input: { text: "still runs" } });
    await t.raw.query("ALTER FUNCTION regent_seal_audit(text) RENAME TO regent_seal_audit_away");
    try {
      const sink = logSink();
      const result = await work(t.db, sink.log);
      expect(result).toMatchObject({ claimed: 1, completed: 1, sealed: 0 });
      expect(result.sealError).toMatch(/regent_seal_audit/);
      expect(JSON.parse(sink.lines[0] as string)).toMatchObject({
        event: "worker.invocation",
        sealed: 0,
        sealError: expect.stringMatching(/regent_seal_audit/),
      });
    } finally {
      await t.raw.query("ALTER FUNCTION regent_seal_audit_away(text) RENAME TO regent_seal_audit");
    }
  });

  it("refuses to seal outside READ COMMITTED, where the chain could fork", async () => {
    const t = await freshDatabase();
    await submitJob(t.db, submitter, { generator: "demo", input: { text: "x" } });
    const error = await t.db
      .transaction((tx) => sealAudit(tx, "test"), { isolationLevel: "repeatable read" })
      .catch((e: unknown) => e);
    expect(String((error as { cause?: unknown }).cause ?? error)).toMatch(
      /audit seals are made in READ COMMITTED/,
    );
    expect(await sealCount(t)).toBe(0);
  });
});

describe("audit seals on the embedded PGlite database", () => {
  // Starting PGlite (WebAssembly) and migrating it takes most of this on a busy machine.
  it("seal and verify, and a change behind the seal's back is named", async () => {
    const database = await connect({ dataDir: "memory://" });
    try {
      await migrate(database, { generators: builtInCatalog() });
      const { db } = database;
      const job = await submitJob(db, submitter, { generator: "demo", input: { text: "pglite" } });
      const result = await work(db);
      expect(result).toMatchObject({ completed: 1 });
      expect(result.sealError).toBeUndefined();
      const [events] = rowsOf<{ newest: number; n: number }>(
        await db.execute(sql`SELECT max(id)::int AS newest, count(*)::int AS n FROM audit_events`),
      );
      if (!events) throw new Error("no audit events");
      await sealThrough(db, events.newest);
      expect(await verifyAudit(db)).toMatchObject({ ok: true, events: events.n, unsealed: 0 });

      await db.execute(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_insert_only`);
      await db.execute(
        sql`UPDATE audit_events SET actor = 'admin:mallory' WHERE subject_id = ${job.id} AND type = 'JOB_CREATED'`,
      );
      expect(await verifyAudit(db)).toMatchObject({ ok: false, problem: "changed" });
    } finally {
      await database.close();
    }
  }, 180_000);
});
