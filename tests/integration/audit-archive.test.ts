import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Executor, rowsOf } from "../../db/types";
import {
  type ArchiveVerdict,
  exportAuditArchive,
  verifyArchive,
} from "../../functions/domain/audit-archive";
import { auditSealLag, sealAudit } from "../../functions/domain/audit-seals";
import { submitJob } from "../../functions/domain/jobs";
import { runWorkerInvocation } from "../../functions/execution/invocation";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { submitter } from "../helpers/fixtures";
import { npmRun } from "../helpers/npm";

/**
 * An archive made by `audit export` must verify with no database at all, and every edit of the
 * file that a reader could be misled by must be named. One database serves every case: the
 * attacks edit the exported lines, not the log (but the last, which puts back what it changed).
 *
 * The log spans more than one page of seals (100) and of events (1,000) per query, has an event
 * whose JSON PostgreSQL renders unlike JavaScript (digits beyond a double, a trimmed fraction
 * of a second, escapes), an id left unused by a rolled-back insert, and two events after the
 * last seal.
 */

const SEAL_PATIENCE_MS = 120_000;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let t: TestDatabase;
let scratch: string;
/** The export of the whole log, line by line. */
let lines: string[];
let edge: number;
let gap: number;

interface Counts {
  seals: number;
  events: number;
  head: { id: number; to: number; digest: string };
}

async function counts(db: Executor, fromSeal = 1): Promise<Counts> {
  const [row] = rowsOf<{ seals: number; events: number; id: number; to: number; digest: string }>(
    await db.execute(sql`
      WITH head AS (SELECT * FROM audit_seals ORDER BY id DESC LIMIT 1),
      anchor AS (SELECT coalesce(max(to_event_id), 0) AS to FROM audit_seals WHERE id < ${fromSeal})
      SELECT (SELECT count(*)::int FROM audit_seals WHERE id >= ${fromSeal}) AS seals,
             (SELECT count(*)::int FROM audit_events
              WHERE id > (SELECT "to" FROM anchor) AND id <= (SELECT to_event_id FROM head)) AS events,
             head.id::int AS id, head.to_event_id::int AS to, head.digest
      FROM head`),
  );
  if (!row) throw new Error("no seal");
  return {
    seals: row.seals,
    events: row.events,
    head: { id: row.id, to: row.to, digest: row.digest },
  };
}

/** Seals until a seal covers `eventId`, however long another session's transaction holds it back. */
async function sealThrough(db: Executor, eventId: number): Promise<void> {
  const giveUpAt = Date.now() + SEAL_PATIENCE_MS;
  while (Date.now() < giveUpAt) {
    await sealAudit(db, "test");
    const [head] = rowsOf<{ to: number }>(
      await db.execute(sql`SELECT coalesce(max(to_event_id), 0)::int AS to FROM audit_seals`),
    );
    if ((head?.to ?? 0) >= eventId) return;
    await pause(20);
  }
  throw new Error(`no seal covered event ${eventId}: ${JSON.stringify(await auditSealLag(db))}`);
}

async function insertEvent(subjectId: string): Promise<number> {
  const { rows } = await t.raw.query(
    `INSERT INTO audit_events (type, actor, subject_type, subject_id)
     VALUES ('JOB_CREATED', 'test', 'job', $1) RETURNING id::int`,
    [subjectId],
  );
  return rows[0].id;
}

async function exportLines(options: { fromSeal?: number } = {}) {
  let text = "";
  const result = await exportAuditArchive(
    t.db,
    async (chunk) => {
      text += chunk;
    },
    options,
  );
  return { result, lines: text.split("\n").slice(0, -1) };
}

async function* each(items: string[]): AsyncGenerator<string> {
  yield* items;
}

const verify = (items: string[]): Promise<ArchiveVerdict> => verifyArchive(each(items));

type Line = Record<string, unknown>;

/** The index of the event line for event `id` (its readable id is what a reader looks up). */
function eventAt(items: string[], id: number): number {
  const index = items.findIndex(
    (line) => line.startsWith('{"kind":"event"') && parse(line).id === id,
  );
  if (index < 0) throw new Error(`no line for event ${id}`);
  return index;
}

const parse = (line: string) => JSON.parse(line) as Line;

async function sealOf(id: number): Promise<number> {
  const { rows } = await t.raw.query(
    "SELECT id::int FROM audit_seals WHERE from_event_id < $1 AND to_event_id >= $1",
    [id],
  );
  return rows[0].id;
}

describe("audit archives", { timeout: 2 * SEAL_PATIENCE_MS + 60_000 }, () => {
  beforeAll(
    async () => {
      t = await freshDatabase();
      scratch = mkdtempSync(join(tmpdir(), "regent-archive-"));
      for (const text of ["one", "two", "three"]) {
        await submitJob(t.db, submitter, { generator: "demo", input: { text } });
      }
      const quiet = () => {};
      await runWorkerInvocation(t.db, {
        budgetMs: 10_000,
        concurrency: 2,
        batchSize: 10,
        log: quiet,
      });
      const { rows: newest } = await t.raw.query("SELECT max(id)::int AS id FROM audit_events");
      await sealThrough(t.db, newest[0].id);

      const { rows } = await t.raw.query(
        `INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip,
                                 user_agent, created_at)
       VALUES ('RETRY_INTENT_CREATED', 'admin:zoë', 'job', 'edge', $1::jsonb, 'req-é', '203.0.113.9',
               'curl/8 "quoted"', '2026-01-02 03:04:05.120+00') RETURNING id::int`,
        [
          `{"big": 123456789012345678901234567890, "tenth": 0.1000000000000000055511151231257827,
          "small": 1e-7, "trailing": 1.50, "text": "line\\nbreak \\"q\\" back\\\\slash é 😀 \\u0001",
          "nested": [null, true, {"zz": 1, "a": [2.0]}]}`,
        ],
      );
      edge = rows[0].id;
      await t.raw.query("BEGIN");
      gap = await insertEvent("rolled back");
      await t.raw.query("ROLLBACK");
      await t.raw.query(
        `INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
       SELECT 'JOB_CREATED', 'bulk', 'job', 'bulk-' || n, jsonb_build_object('n', n)
       FROM generate_series(1, 2500) n`,
      );
      // One event a seal, until there are more seals than one page of them.
      await sealThrough(t.db, await insertEvent("paged"));
      for (let i = 0; (await counts(t.db)).seals <= 105; i++) {
        await sealThrough(t.db, await insertEvent(`seal ${i}`));
      }
      await submitJob(t.db, submitter, { generator: "demo", input: { text: "unsealed 1" } });
      await submitJob(t.db, submitter, { generator: "demo", input: { text: "unsealed 2" } });
      lines = (await exportLines()).lines;
    },
    2 * SEAL_PATIENCE_MS + 60_000,
  );

  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("exports through the CLI, and the file verifies with no database (DATABASE_URL unset or unreachable)", async () => {
    const file = join(scratch, "whole.ndjson");
    const exported = await npmRun(["regent", "--", "audit", "export", "--to", file], {
      DATABASE_URL: t.url,
    });
    expect(exported.stderr).toContain("2 events after the last seal left out");
    expect(exported.code).toBe(0);
    const expected = await counts(t.db);
    expect(exported.stdout).toContain(
      `archived ${expected.seals} seals, ${expected.events} events to ${file}`,
    );

    const content = readFileSync(file, "utf8").split("\n").slice(0, -1);
    expect(parse(content[0] as string)).toMatchObject({
      kind: "header",
      format: "regent-audit-archive",
      version: 1,
      anchor: { seal: null, to_event_id: 0, digest: "0".repeat(64) },
    });
    expect(parse(content.at(-1) as string)).toEqual({
      kind: "end",
      seals: expected.seals,
      events: expected.events,
      head: expected.head.digest,
    });
    const eventLines = content.filter((line) => line.startsWith('{"kind":"event"'));
    expect(eventLines).toHaveLength(expected.events);
    // Readers get the numbers' digits and PostgreSQL's time, as hashed.
    const edgeLine = content[eventAt(content, edge)] as string;
    expect(edgeLine).toContain('"big":123456789012345678901234567890');
    expect(edgeLine).toContain('"tenth":0.1000000000000000055511151231257827');
    expect(edgeLine).toContain('"created_at_utc":"2026-01-02T03:04:05.12"');
    expect(parse(edgeLine)).toMatchObject({ actor: "admin:zoë", user_agent: 'curl/8 "quoted"' });

    for (const DATABASE_URL of ["", "postgres://nobody@127.0.0.1:1/nowhere"]) {
      const verified = await npmRun(["regent", "--", "audit", "verify", "--file", file], {
        DATABASE_URL,
      });
      expect(verified.stderr).toBe("");
      expect(verified.code).toBe(0);
      expect(verified.stdout).toContain(
        `audit archive intact: ${expected.seals} seals, ${expected.events} events`,
      );
      expect(verified.stdout).toContain("anchor: the start of the log");
      expect(verified.stdout).toContain(
        `head: seal ${expected.head.id}, events up to ${expected.head.to}, digest ${expected.head.digest}`,
      );
    }

    // The same file with one event's actor changed: exit 1, the event and seal named.
    const changed = [...content];
    const at = eventAt(changed, edge);
    changed[at] = (changed[at] as string).replace('"actor":"admin:zoë"', '"actor":"admin:alice"');
    writeFileSync(join(scratch, "changed.ndjson"), `${changed.join("\n")}\n`);
    const refused = await npmRun(
      ["regent", "--", "audit", "verify", "--file", join(scratch, "changed.ndjson")],
      { DATABASE_URL: "" },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `event ${edge} was changed after seal ${await sealOf(edge)} (${join(scratch, "changed.ndjson")} line ${at + 1})`,
    );

    const again = await npmRun(["regent", "--", "audit", "export", "--to", file], {
      DATABASE_URL: t.url,
    });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("an archive is never overwritten");
  });

  it("the module's export verifies, and names the head and the counts", async () => {
    const expected = await counts(t.db);
    const { result } = await exportLines();
    expect(result).toMatchObject({
      ok: true,
      seals: expected.seals,
      events: expected.events,
      unsealed: 2,
      head: { sealId: expected.head.id, toEventId: expected.head.to, digest: expected.head.digest },
    });
    expect(await verify(lines)).toEqual({
      ok: true,
      seals: expected.seals,
      events: expected.events,
      anchor: { sealId: null, toEventId: 0, digest: "0".repeat(64) },
      head: { sealId: expected.head.id, toEventId: expected.head.to, digest: expected.head.digest },
    });
  });

  describe("names an event changed in the file", () => {
    const edits: [string, (line: Line) => void][] = [
      ["a readable field", (line) => (line.subject_id = "other")],
      ["its time", (line) => (line.created_at_utc = "2026-01-02T03:04:05.13")],
      [
        "the canonical text",
        (line) => (line.canonical = (line.canonical as string).replace("admin:zoë", "admin:eve")),
      ],
      [
        "a readable field and the canonical text alike",
        (line) => {
          line.actor = "admin:eve";
          line.canonical = (line.canonical as string).replace("admin:zoë", "admin:eve");
        },
      ],
      ["the seal it names", (line) => (line.seal = (line.seal as number) + 1)],
      ["a field added", (line) => (line.note = "harmless?")],
    ];
    it.each(edits)("%s", async (_what, edit) => {
      const edited = [...lines];
      const at = eventAt(edited, edge);
      const line = parse(edited[at] as string);
      edit(line);
      edited[at] = JSON.stringify(line);
      expect(await verify(edited)).toEqual({
        ok: false,
        problem: "changed",
        sealId: await sealOf(edge),
        eventId: edge,
        line: at + 1,
      });
    });

    it("digits a double cannot tell apart", async () => {
      const edited = [...lines];
      const at = eventAt(edited, edge);
      edited[at] = (edited[at] as string).replace(
        '"big":123456789012345678901234567890',
        '"big":123456789012345678901234567891',
      );
      expect(JSON.parse(edited[at] as string)).toEqual(JSON.parse(lines[at] as string));
      expect(await verify(edited)).toMatchObject({ ok: false, problem: "changed", eventId: edge });
    });
  });

  it("names an event line removed", async () => {
    const edited = [...lines];
    const at = eventAt(edited, edge);
    edited.splice(at, 1);
    expect(await verify(edited)).toEqual({
      ok: false,
      problem: "removed",
      sealId: await sealOf(edge),
      eventId: edge,
      line: at + 1,
    });
  });

  it("names an event line added, in an id no sealed event had", async () => {
    const edited = [...lines];
    const before = eventAt(edited, gap - 1);
    const forged = parse(edited[before] as string);
    forged.id = gap;
    forged.canonical = (forged.canonical as string).replace(/^\[\d+,/, `[${gap},`);
    edited.splice(before + 1, 0, JSON.stringify(forged));
    expect(await verify(edited)).toEqual({
      ok: false,
      problem: "added",
      sealId: await sealOf(gap - 1),
      eventId: gap,
      line: before + 2,
    });
  });

  it("names a seal altered, and a file cut short at a seal's end", async () => {
    const seal = await sealOf(edge);
    const at = lines.findIndex((line) => line.startsWith(`{"kind":"seal","id":${seal},`));
    const altered = [...lines];
    const line = parse(altered[at] as string);
    line.digest = (line.digest as string).replace(/^./, (c) => (c === "0" ? "1" : "0"));
    altered[at] = JSON.stringify(line);
    expect(await verify(altered)).toMatchObject({
      ok: false,
      problem: "seal chain broken",
      sealId: seal,
      eventId: undefined,
    });

    const lastSeal = lines.findLastIndex((l) => l.startsWith('{"kind":"seal"'));
    const cut = [...lines.slice(0, lastSeal), lines.at(-1) as string];
    expect(await verify(cut)).toMatchObject({
      ok: false,
      problem: "malformed",
      line: lastSeal + 1,
    });
    expect(await verify(lines.slice(0, -1))).toMatchObject({
      ok: false,
      problem: "malformed",
      reason: expect.stringMatching(/cut short/),
    });
  });

  it("an archive from seal N chains to seal N-1's digest, reports it, and verifies alone", async () => {
    const fromSeal = await sealOf(edge);
    expect(fromSeal).toBeGreaterThan(1);
    const { rows } = await t.raw.query(
      "SELECT id::int, to_event_id::int AS to, digest FROM audit_seals WHERE id < $1 ORDER BY id DESC LIMIT 1",
      [fromSeal],
    );
    const anchor = { sealId: rows[0].id, toEventId: rows[0].to, digest: rows[0].digest };
    const expected = await counts(t.db, fromSeal);
    const part = await exportLines({ fromSeal });
    expect(part.result).toMatchObject({ ok: true, seals: expected.seals, anchor });
    expect(parse(part.lines[0] as string).anchor).toEqual({
      seal: anchor.sealId,
      to_event_id: anchor.toEventId,
      digest: anchor.digest,
    });
    expect(parse(part.lines[1] as string)).toMatchObject({ kind: "seal", id: fromSeal });
    expect(await verify(part.lines)).toEqual({
      ok: true,
      seals: expected.seals,
      events: expected.events,
      anchor,
      head: { sealId: expected.head.id, toEventId: expected.head.to, digest: expected.head.digest },
    });

    // The anchor is part of the chain: another digest there breaks it at the first seal.
    const header = parse(part.lines[0] as string);
    (header.anchor as Line).digest = "1".repeat(64);
    expect(await verify([JSON.stringify(header), ...part.lines.slice(1)])).toMatchObject({
      ok: false,
      problem: "seal chain broken",
      sealId: fromSeal,
    });
    await expect(exportLines({ fromSeal: expected.head.id + 1 })).rejects.toThrow(
      `there is no seal ${expected.head.id + 1}`,
    );
  });

  it("refuses to export a log changed behind its seal's back, naming the event", async () => {
    const seal = await sealOf(edge);
    await t.raw.query("ALTER TABLE audit_events DISABLE TRIGGER audit_events_insert_only");
    try {
      await t.raw.query("UPDATE audit_events SET actor = 'admin:eve' WHERE id = $1", [edge]);
      expect((await exportLines()).result).toMatchObject({
        ok: false,
        problem: "changed",
        sealId: seal,
        eventId: edge,
      });
    } finally {
      await t.raw.query("UPDATE audit_events SET actor = 'admin:zoë' WHERE id = $1", [edge]);
      await t.raw.query("ALTER TABLE audit_events ENABLE TRIGGER audit_events_insert_only");
    }
    expect((await exportLines()).result).toMatchObject({ ok: true });
  });
});
