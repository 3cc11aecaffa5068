/**
 * Audit archives: the sealed part of the audit log as an NDJSON file that proves itself without
 * the database, so that the log can be kept (or handed to an auditor) beyond the database's
 * life and checked anywhere. The file, one JSON object per line:
 *
 *   {"kind":"header","format":"regent-audit-archive","version":1,"exported_at":…,
 *    "anchor":{"seal":null,"to_event_id":0,"digest":"000…"}}
 *   {"kind":"seal","id":…,"from_event_id":…,"to_event_id":…,"event_count":…,"event_ids":[…],
 *    "event_hashes":"<hex, 8 bytes an event>","prev_digest":…,"digest":…,"sealed_by":…,"sealed_at":…}
 *   {"kind":"event","seal":…,"id":…,"type":…,…,"created_at_utc":…,"tx_id":…,"canonical":"[…]"}
 *   … each seal line followed by its events in id order, seals in id order …
 *   {"kind":"end","seals":…,"events":…,"head":"<the last seal's digest>"}
 *
 * An event's `canonical` is the text PostgreSQL fingerprints (regent_audit_hashes), exactly as
 * the database rendered it: the verifier hashes that text instead of rebuilding it, since
 * jsonb's rendering of numbers, keys and times is PostgreSQL's and not JavaScript's. The named
 * fields beside it are for readers; the verifier requires them to hold the same values as the
 * canonical text, numbers compared by their digits, so that neither can be edited alone.
 *
 * An archive that starts at a later seal is anchored to the seal before it (the header's
 * anchor): its first seal must chain to that digest, which the verifier reports so that it can
 * be compared with the head of the archive before it, or with a digest recorded elsewhere.
 * `sealed_by` and `sealed_at` are carried along but, as in the database, not proven; nor is the
 * header's `exported_at`.
 */
import { createHash, type Hash } from "node:crypto";
import { sql } from "drizzle-orm";
import { type Executor, rowsOf } from "../../db/types";
import type { AuditProblem } from "./audit-seals";
import { DomainError } from "./errors";

export const ARCHIVE_FORMAT = "regent-audit-archive";
export const ARCHIVE_VERSION = 1;

/** An event's columns as the archive names them, in the order regent_audit_hashes hashes them. */
const EVENT_FIELDS = [
  "id",
  "type",
  "actor",
  "subject_type",
  "subject_id",
  "data",
  "request_id",
  "ip",
  "user_agent",
  "created_at_utc",
  "tx_id",
] as const;

const SEAL_FIELDS = [
  "id",
  "from_event_id",
  "to_event_id",
  "event_count",
  "event_ids",
  "event_hashes",
  "prev_digest",
  "digest",
  "sealed_by",
  "sealed_at",
] as const;

/** A point of the chain: a seal's digest and how far its events go (no seal: the log's start). */
export interface ArchiveLink {
  sealId: number | null;
  toEventId: number;
  digest: string;
}

/** What the first seal chains to: no seal, no event, a digest of zeros. */
const GENESIS: ArchiveLink = { sealId: null, toEventId: 0, digest: "0".repeat(64) };

export type ArchiveFailure =
  | {
      ok: false;
      problem: AuditProblem;
      sealId: number;
      /** Undefined when a seal itself was altered ("seal chain broken"). */
      eventId: number | undefined;
      line: number;
    }
  | { ok: false; problem: "malformed"; line: number; reason: string };

export type ArchiveVerdict =
  | {
      ok: true;
      seals: number;
      events: number;
      /** What the first seal chains to: compare it with an earlier archive's head. */
      anchor: ArchiveLink;
      /** The last seal: keep its digest where the archive's holder cannot reach. */
      head: ArchiveLink;
    }
  | ArchiveFailure;

export type ArchiveExport =
  | (Extract<ArchiveVerdict, { ok: true }> & {
      /** Events after the head seal, left out: nothing proves them yet. */
      unsealed: number;
    })
  | ArchiveFailure;

/**
 * Checks an archive line by line, keeping one seal's fingerprints at a time, never the events.
 * Reports, like regent_verify_audit, the first problem in seal order: within a seal, an id
 * that is missing or new comes before a changed event, which comes before a wrong digest.
 */
export class ArchiveChecker {
  private lineNumber = 0;
  private started = false;
  private ended = false;
  private failure: ArchiveFailure | undefined;
  private anchor = GENESIS;
  /** The last seal whose events all checked out (the anchor before the first). */
  private chain = GENESIS;
  private open: OpenSeal | undefined;
  private seals = 0;
  private events = 0;

  /** Checks the next line; returns the first failure once there is one (and keeps returning it). */
  add(text: string): ArchiveFailure | undefined {
    if (this.failure) return this.failure;
    this.lineNumber++;
    this.failure = this.check(text);
    return this.failure;
  }

  /** The verdict on the lines given so far, which must have ended with the end line. */
  finish(): ArchiveVerdict {
    if (this.failure) return this.failure;
    if (!this.ended) {
      return this.malformed(
        this.started ? "the file stops before its end line: it was cut short" : "the file is empty",
      );
    }
    return {
      ok: true,
      seals: this.seals,
      events: this.events,
      anchor: this.anchor,
      head: this.chain,
    };
  }

  private check(text: string): ArchiveFailure | undefined {
    if (this.ended) return this.malformed("a line after the end line");
    let line: unknown;
    try {
      line = parseExact(text);
    } catch {
      return this.malformed("not a JSON line");
    }
    if (!isObject(line)) return this.malformed("not a JSON object");
    if (!this.started) return this.header(line);
    switch (line.kind) {
      case "seal":
        return this.closeSeal() ?? this.openSeal(line);
      case "event":
        return this.event(line);
      case "end":
        return this.closeSeal() ?? this.end(line);
      default:
        return this.malformed(`a line of unknown kind ${JSON.stringify(line.kind)}`);
    }
  }

  private header(line: Record<string, unknown>): ArchiveFailure | undefined {
    if (line.kind !== "header" || line.format !== ARCHIVE_FORMAT) {
      return this.malformed(`not a ${ARCHIVE_FORMAT} file: its first line is no header`);
    }
    if (integer(line.version) !== ARCHIVE_VERSION) {
      return this.malformed(`version ${String(line.version)} is not one this verifier reads`);
    }
    const anchor = isObject(line.anchor) ? line.anchor : {};
    const sealId = anchor.seal === null ? null : integer(anchor.seal);
    const toEventId = integer(anchor.to_event_id);
    if (sealId === undefined || toEventId === undefined || !isDigest(anchor.digest)) {
      return this.malformed("the header's anchor names no seal, event id and digest");
    }
    this.anchor = { sealId, toEventId, digest: anchor.digest };
    this.chain = this.anchor;
    this.started = true;
    return undefined;
  }

  private openSeal(line: Record<string, unknown>): ArchiveFailure | undefined {
    const unexpected = Object.keys(line).find(
      (key) => key !== "kind" && !(SEAL_FIELDS as readonly string[]).includes(key),
    );
    if (unexpected) return this.malformed(`a seal line with an unknown field "${unexpected}"`);
    const id = integer(line.id);
    const from = integer(line.from_event_id);
    const to = integer(line.to_event_id);
    const count = integer(line.event_count);
    const ids = Array.isArray(line.event_ids) ? line.event_ids.map(integer) : undefined;
    const hashes = typeof line.event_hashes === "string" ? fromHex(line.event_hashes) : undefined;
    if (
      id === undefined ||
      from === undefined ||
      to === undefined ||
      count === undefined ||
      !ids ||
      !ids.every((x) => x !== undefined) ||
      !hashes ||
      !isDigest(line.prev_digest) ||
      !isDigest(line.digest) ||
      typeof line.sealed_by !== "string" ||
      typeof line.sealed_at !== "string"
    ) {
      return this.malformed("a seal line without the fields of a seal");
    }
    // The database's checks (regent_verify_audit), and what its constraints hold there but a
    // file does not: seals in order, each one's ids ascending inside its range.
    const chained =
      line.prev_digest === this.chain.digest &&
      from === this.chain.toEventId &&
      (this.chain.sealId === null || id > this.chain.sealId) &&
      count === ids.length &&
      hashes.length === 8 * ids.length &&
      ids.every((x, i) => x > (i === 0 ? from : (ids[i - 1] as number)) && x <= to);
    if (!chained) return this.problem("seal chain broken", id, undefined);
    this.open = {
      id,
      toEventId: to,
      eventIds: ids,
      shortHashes: hashes,
      digest: line.digest,
      digesting: createHash("sha256").update(fromHex(line.prev_digest) as Uint8Array),
      next: 0,
      firstChanged: undefined,
    };
    this.seals++;
    return undefined;
  }

  private event(line: Record<string, unknown>): ArchiveFailure | undefined {
    const seal = this.open;
    if (!seal) return this.malformed("an event line before any seal line");
    let values: unknown;
    try {
      values = typeof line.canonical === "string" ? parseExact(line.canonical) : undefined;
    } catch {
      values = undefined;
    }
    const canonical = Array.isArray(values) && values.length === EVENT_FIELDS.length;
    const id = integer(canonical ? (values as unknown[])[0] : line.id);
    if (id === undefined) return this.malformed("an event line without an event id");

    const i = seal.next++;
    const sealed = seal.eventIds[i];
    if (id !== sealed) {
      // The first id on which the file and the seal part: as regent_verify_audit names it.
      return sealed !== undefined && sealed < id
        ? this.problem("removed", seal.id, sealed)
        : this.problem("added", seal.id, id);
    }
    this.events++;
    const text = typeof line.canonical === "string" ? line.canonical : "";
    const hash = createHash("sha256").update(text, "utf8").digest();
    seal.digesting.update(hash);
    const faithful =
      canonical &&
      integer(line.seal) === seal.id &&
      sameFields(line, values as unknown[]) &&
      hash.subarray(0, 8).every((byte, k) => byte === seal.shortHashes[8 * i + k]);
    if (!faithful) seal.firstChanged ??= { id, line: this.lineNumber };
    return undefined;
  }

  /** The checks that need all of a seal's events: one missing at its end, a change, the digest. */
  private closeSeal(): ArchiveFailure | undefined {
    const seal = this.open;
    if (!seal) return undefined;
    this.open = undefined;
    const missing = seal.eventIds[seal.next];
    if (missing !== undefined) return this.problem("removed", seal.id, missing);
    const changed = seal.firstChanged;
    if (changed) return this.problem("changed", seal.id, changed.id, changed.line);
    const digest = seal.digesting.digest("hex");
    if (digest !== seal.digest) return this.problem("seal chain broken", seal.id, undefined);
    this.chain = { sealId: seal.id, toEventId: seal.toEventId, digest };
    return undefined;
  }

  private end(line: Record<string, unknown>): ArchiveFailure | undefined {
    if (
      integer(line.seals) !== this.seals ||
      integer(line.events) !== this.events ||
      line.head !== this.chain.digest
    ) {
      return this.malformed(
        `the end line counts ${String(line.seals)} seals and ${String(line.events)} events up to ` +
          `digest ${String(line.head)}, the file holds ${this.seals} and ${this.events} up to ` +
          `${this.chain.digest}: lines were removed or added at its end`,
      );
    }
    this.ended = true;
    return undefined;
  }

  private problem(
    problem: AuditProblem,
    sealId: number,
    eventId: number | undefined,
    line = this.lineNumber,
  ): ArchiveFailure {
    return { ok: false, problem, sealId, eventId, line };
  }

  private malformed(reason: string): ArchiveFailure {
    return { ok: false, problem: "malformed", line: this.lineNumber, reason };
  }
}

interface OpenSeal {
  id: number;
  toEventId: number;
  eventIds: number[];
  /** The first 8 bytes of each event's fingerprint, as the seal recorded them. */
  shortHashes: Uint8Array;
  digest: string;
  /**
   * SHA-256 of the previous digest, then of each event's full fingerprint as it is checked.
   * node:crypto (which Workers have too, under nodejs_compat) rather than Web Crypto: it hashes
   * as the events come, and synchronously, where a promise per event made checking 70% slower.
   */
  digesting: Hash;
  /** Position in eventIds of the next event line. */
  next: number;
  /** Named once the whole seal is read, unless an id missing or added comes first. */
  firstChanged: { id: number; line: number } | undefined;
}

/** Checks an archive read line by line, stopping at the first problem. */
export async function verifyArchive(lines: AsyncIterable<string>): Promise<ArchiveVerdict> {
  const checker = new ArchiveChecker();
  for await (const line of lines) {
    if (checker.add(line)) break;
  }
  return checker.finish();
}

/** Seals read per query: each carries its events' ids and short fingerprints. */
const SEAL_PAGE = 100;
/** Events read per query, in id order after the last one read. */
const EVENT_PAGE = 1000;
/** Lines handed to `write` at once. */
const WRITE_BATCH = 500;

/**
 * Writes the sealed events, from seal `fromSeal` (default: the first) to the last seal made
 * when the export began, through `write`, and returns what it wrote and how many events it
 * left out for not being sealed yet. Reads in keyset pages, each its own statement: one
 * transaction for the whole export would hold back every seal on the server until it ended.
 * Sealed events are final, so the pages add up to one consistent log all the same.
 *
 * Every line is checked as it is written, as `audit verify --file` will check it, so a log
 * that no longer matches its seals is refused with the problem instead of archived (what was
 * written by then is no archive, and the caller should discard it).
 */
export async function exportAuditArchive(
  db: Executor,
  write: (text: string) => Promise<void>,
  options: { fromSeal?: number } = {},
): Promise<ArchiveExport> {
  const { head, unsealed } = await headOf(db);
  const anchor =
    options.fromSeal === undefined ? GENESIS : await anchorBefore(db, options.fromSeal, head);
  const out = new CheckedWriter(write);
  try {
    await out.line(
      JSON.stringify({
        kind: "header",
        format: ARCHIVE_FORMAT,
        version: ARCHIVE_VERSION,
        exported_at: new Date().toISOString(),
        anchor: { seal: anchor.sealId, to_event_id: anchor.toEventId, digest: anchor.digest },
      }),
    );
    let seals = 0;
    let events = 0;
    const pending = sealedEvents(db, anchor.toEventId, head.toEventId);
    let next = await pending.next();
    for await (const seal of sealsBetween(db, options.fromSeal ?? 1, head.sealId ?? 0)) {
      await out.line(seal.line);
      seals++;
      while (!next.done && next.value.id <= seal.toEventId) {
        await out.line(eventLine(seal.id, next.value.canonical));
        events++;
        next = await pending.next();
      }
    }
    await out.line(JSON.stringify({ kind: "end", seals, events, head: head.digest }));
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    return error.failure;
  }
  const verdict = await out.close();
  return verdict.ok ? { ...verdict, unsealed } : verdict;
}

/** A line the checker refused, thrown out of the export's loops. */
class Refused extends Error {
  constructor(readonly failure: ArchiveFailure) {
    super(`audit archive line ${failure.line} refused: ${failure.problem}`);
  }
}

/** Checks each line before it is written, and writes them in batches. */
class CheckedWriter {
  private readonly checker = new ArchiveChecker();
  private batch: string[] = [];

  constructor(private readonly write: (text: string) => Promise<void>) {}

  async line(text: string): Promise<void> {
    const failure = this.checker.add(text);
    if (failure) throw new Refused(failure);
    this.batch.push(text);
    if (this.batch.length >= WRITE_BATCH) await this.flush();
  }

  async close(): Promise<ArchiveVerdict> {
    await this.flush();
    return this.checker.finish();
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const text = `${this.batch.join("\n")}\n`;
    this.batch = [];
    await this.write(text);
  }
}

/** The last seal, and how many events came after it. */
async function headOf(db: Executor): Promise<{ head: ArchiveLink; unsealed: number }> {
  const [row] = rowsOf<{
    id: string | null;
    to_event_id: string | null;
    digest: string | null;
    unsealed: number;
  }>(
    await db.execute(sql`
      WITH head AS (SELECT id, to_event_id, digest FROM audit_seals ORDER BY id DESC LIMIT 1)
      SELECT (SELECT id::text FROM head) AS id, (SELECT to_event_id::text FROM head) AS to_event_id,
             (SELECT digest FROM head) AS digest,
             (SELECT count(*) FROM audit_events
              WHERE id > coalesce((SELECT to_event_id FROM head), 0))::float8 AS unsealed`),
  );
  const head: ArchiveLink =
    row?.id && row.to_event_id && row.digest
      ? { sealId: Number(row.id), toEventId: Number(row.to_event_id), digest: row.digest }
      : GENESIS;
  return { head, unsealed: Number(row?.unsealed ?? 0) };
}

/** The seal before seal `first`, which an archive starting there chains to. */
async function anchorBefore(db: Executor, first: number, head: ArchiveLink): Promise<ArchiveLink> {
  const [row] = rowsOf<{
    found: boolean;
    id: string | null;
    to_event_id: string | null;
    digest: string | null;
  }>(
    await db.execute(sql`
      WITH prev AS (SELECT id, to_event_id, digest FROM audit_seals WHERE id < ${first}
                    ORDER BY id DESC LIMIT 1)
      SELECT EXISTS (SELECT 1 FROM audit_seals WHERE id = ${first} AND id <= ${head.sealId ?? 0}) AS found,
             (SELECT id::text FROM prev) AS id, (SELECT to_event_id::text FROM prev) AS to_event_id,
             (SELECT digest FROM prev) AS digest`),
  );
  if (!row?.found) {
    throw new DomainError(
      "NOT_FOUND",
      head.sealId === null
        ? "there is no seal yet"
        : `there is no seal ${first} (the last is seal ${head.sealId})`,
      { field: "fromSeal" },
    );
  }
  return row.id && row.to_event_id && row.digest
    ? { sealId: Number(row.id), toEventId: Number(row.to_event_id), digest: row.digest }
    : GENESIS;
}

/** Seals with ids in [first, last], in order, each with its archive line. */
async function* sealsBetween(
  db: Executor,
  first: number,
  last: number,
): AsyncGenerator<{ id: number; toEventId: number; line: string }> {
  let after = first - 1;
  while (after < last) {
    const rows = rowsOf<{
      id: string;
      from_event_id: string;
      to_event_id: string;
      event_count: number;
      event_ids: string;
      event_hashes: string;
      prev_digest: string;
      digest: string;
      sealed_by: string;
      sealed_at: string;
    }>(
      await db.execute(sql`
        SELECT id::text AS id, from_event_id::text AS from_event_id,
               to_event_id::text AS to_event_id, event_count,
               array_to_json(event_ids)::text AS event_ids,
               encode(event_hashes, 'hex') AS event_hashes, prev_digest, digest, sealed_by,
               to_char(sealed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS sealed_at
        FROM audit_seals s WHERE s.id > ${after} AND s.id <= ${last}
        ORDER BY s.id LIMIT ${SEAL_PAGE}`),
    );
    for (const row of rows) {
      const id = Number(row.id);
      const toEventId = Number(row.to_event_id);
      const line = JSON.stringify({
        kind: "seal",
        id,
        from_event_id: Number(row.from_event_id),
        to_event_id: toEventId,
        event_count: Number(row.event_count),
        event_ids: JSON.parse(row.event_ids),
        event_hashes: row.event_hashes,
        prev_digest: row.prev_digest,
        digest: row.digest,
        sealed_by: row.sealed_by,
        sealed_at: row.sealed_at,
      });
      yield { id, toEventId, line };
      after = id;
    }
    if (rows.length < SEAL_PAGE) return;
  }
}

/** Audit events with ids in (after, through], in order, as the text their seal hashed. */
async function* sealedEvents(
  db: Executor,
  after: number,
  through: number,
): AsyncGenerator<{ id: number; canonical: string }> {
  // A page is a range of ids, not a LIMIT: the function is not inlined, so a LIMIT would be
  // applied only after it had rendered the whole rest of the range. Ids left unused by
  // rolled-back inserts make some pages short.
  for (let last = after; last < through; last = Math.min(through, last + EVENT_PAGE)) {
    // The very text regent_audit_hashes hashes: regent_audit_canonical is its one definition.
    const rows = rowsOf<{ id: string; canonical: string }>(
      await db.execute(sql`
        SELECT c.id::text AS id, c.canonical
        FROM regent_audit_canonical(${last}, ${Math.min(through, last + EVENT_PAGE)}) c`),
    );
    for (const row of rows) yield { id: Number(row.id), canonical: row.canonical };
  }
}

/** An event line: its fields for readers, taken from the canonical text with numbers as written. */
function eventLine(sealId: number, canonical: string): string {
  const values = JSON.parse(canonical, (_key, value, context?: { source?: string }) =>
    typeof value === "number" && context?.source !== undefined ? rawJSON(context.source) : value,
  ) as unknown[];
  const line: Record<string, unknown> = { kind: "event", seal: sealId };
  EVENT_FIELDS.forEach((field, i) => {
    line[field] = values[i];
  });
  line.canonical = canonical;
  return JSON.stringify(line);
}

/**
 * JSON.rawJSON (ES2025, in Node 22), which the ES2023 library this project compiles against
 * does not declare: JSON.stringify writes such a value's text as it is, so a number keeps its
 * digits (jsonb keeps numbers beyond a double's precision).
 */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** A JSON number as written: compared by its digits, which a double could round away. */
class JsonNumber {
  constructor(readonly text: string) {}
}

/** JSON.parse, numbers kept as written (the source text access of ES2025, in Node 22). */
function parseExact(text: string): unknown {
  return JSON.parse(text, (_key, value, context?: { source?: string }) =>
    typeof value === "number" && context?.source !== undefined
      ? new JsonNumber(context.source)
      : value,
  );
}

function integer(value: unknown): number | undefined {
  if (!(value instanceof JsonNumber) || !/^-?(0|[1-9]\d*)$/.test(value.text)) return undefined;
  const n = Number(value.text);
  return Number.isSafeInteger(n) ? n : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof JsonNumber)
  );
}

/** Whether an event line's own fields (all of them, no more) hold the canonical values. */
function sameFields(line: Record<string, unknown>, values: unknown[]): boolean {
  return (
    Object.keys(line).length === EVENT_FIELDS.length + 3 &&
    EVENT_FIELDS.every((field, i) => Object.hasOwn(line, field) && sameJson(line[field], values[i]))
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a instanceof JsonNumber || b instanceof JsonNumber) {
    return a instanceof JsonNumber && b instanceof JsonNumber && a.text === b.text;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length === b.length &&
      a.every((item, i) => sameJson(item, b[i]))
    );
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]))
    );
  }
  return a === b;
}

function isDigest(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{64}$/.test(value);
}

function fromHex(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) return undefined;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  }
  return bytes;
}
