/**
 * What a retry batch would take and what came of it, over HTTP: each previewed job with its
 * failure and the count per error code, an approval of only the jobs an admin chose (and the
 * refusal, writing nothing, of a choice the preview does not hold), the split of a filter over
 * RETRY_BATCH_MAX into failure windows, and the outcomes of the jobs a batch created.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { call, createTokens, type JsonBody, type Tokens, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase, usePolicy } from "../helpers/db";
import { failedAtSecond, yesterdayAt } from "../helpers/failure-times";
import { completeJob, failedJobOf, failedJobs, failJob, submitter } from "../helpers/fixtures";

let t: TestDatabase;
let app: ReturnType<typeof testApp>;
let tokens: Tokens;

const BATCHES = "/api/admin/retry-batches";

beforeAll(async () => {
  t = await freshDatabase();
  app = testApp(t.db);
  tokens = await createTokens(t.db);
});

const preview = (filter: JsonBody, kind?: string) =>
  call(app, "POST", `${BATCHES}/preview`, {
    token: tokens.admin,
    body: kind ? { kind, filter } : { filter },
  });

const approve = (body: JsonBody) =>
  call(app, "POST", BATCHES, {
    token: tokens.admin,
    body: { reasonCode: "TRANSIENT_FAILURE", reasonText: "the upstream recovered", ...body },
  });

/** Rows of every table an approval writes, to show that a refusal wrote nothing. */
async function written() {
  const { rows } = await t.raw.query(`SELECT
    (SELECT count(*) FROM retry_batches)::int AS batches,
    (SELECT count(*) FROM retry_intents)::int AS intents,
    (SELECT count(*) FROM audit_events WHERE type <> 'AUTH_DENIED')::int AS events`);
  return rows[0];
}

describe("a preview's jobs, with their failures", () => {
  it("answers each job's error code, message and failure time, sorted by id, and counts per code", async () => {
    const jobs = [];
    for (const code of [
      "HTTP_TIMEOUT",
      "HTTP_TIMEOUT",
      "HTTP_TIMEOUT",
      "INVALID_INPUT",
      "INVALID_INPUT",
    ]) {
      jobs.push(await failedJobOf(t.db, "mixed", code));
    }
    jobs.sort((a, b) => (a.id < b.id ? -1 : 1));
    const shown = await preview({ generator: "mixed" });
    expect(shown.status).toBe(200);
    expect(shown.body.byErrorCode).toEqual({ HTTP_TIMEOUT: 3, INVALID_INPUT: 2 });
    expect(shown.body.jobs).toEqual(
      jobs.map((job) => ({
        id: job.id,
        errorCode: job.error?.code,
        errorMessage: "failed in a test",
        failedAt: job.finishedAt?.toISOString(),
        completedAt: null,
      })),
    );
    expect(shown.body.jobs.map((j: JsonBody) => j.id)).toEqual(shown.body.jobIds);

    const narrowed = await preview({ generator: "mixed", errorCode: "INVALID_INPUT" });
    expect(narrowed.body.byErrorCode).toEqual({ INVALID_INPUT: 2 });
    expect(narrowed.body.jobs).toHaveLength(2);
  });

  it("answers a SUPERSEDE preview's jobs with their completion and no failure", async () => {
    const job = await submitJob(t.db, submitter, { generator: "demo", input: { text: "done" } });
    const completed = await completeJob(t.db, job.id);
    const shown = await preview({ generator: "demo" }, "SUPERSEDE");
    expect(shown.status).toBe(200);
    expect(shown.body.byErrorCode).toEqual({});
    expect(shown.body.jobs).toEqual([
      {
        id: job.id,
        errorCode: null,
        errorMessage: null,
        failedAt: null,
        completedAt: completed.finishedAt?.toISOString(),
      },
    ]);
  });
});

describe("approving the jobs an admin chose", () => {
  const filter = { generator: "chosen", errorCode: "UPSTREAM_500" };
  let ids: string[];

  beforeAll(async () => {
    ids = (await failedJobs(t.db, 5, { generator: "chosen", code: "UPSTREAM_500" })).map(
      (j) => j.id,
    );
  });

  it("refuses a choice outside the previewed set, and an empty one, writing nothing", async () => {
    const stranger = await failedJobOf(t.db, "other", "UPSTREAM_500");
    const shown = await preview(filter);
    expect(shown.body.jobIds).toEqual(ids);
    const before = await written();

    const forged = await approve({
      filter,
      previewToken: shown.body.previewToken,
      jobIds: [ids[0], stranger.id],
    });
    expect(forged.status).toBe(409);
    expect(forged.body.error).toMatchObject({
      code: "BATCH_PREVIEW_STALE",
      details: { count: 5, outside: [stranger.id] },
    });
    expect(forged.body.error.message).toContain(stranger.id);

    const empty = await approve({ filter, previewToken: shown.body.previewToken, jobIds: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe("VALIDATION_FAILED");

    const notIds = await approve({
      filter,
      previewToken: shown.body.previewToken,
      jobIds: ["Not An Id"],
    });
    expect(notIds.status).toBe(400);
    expect(await written()).toEqual(before);
  });

  it("freezes exactly the chosen jobs, each once; the others stay for the next preview", async () => {
    const shown = await preview(filter);
    const chosen = [ids[3], ids[1]] as string[];
    const created = await approve({
      filter,
      previewToken: shown.body.previewToken,
      jobIds: [...chosen, ids[3]],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.batch.jobCount).toBe(2);
    const batchId = created.body.batch.id;

    const { rows: intents } = await t.raw.query(
      "SELECT source_job_id FROM retry_intents WHERE batch_id = $1 ORDER BY source_job_id",
      [batchId],
    );
    expect(intents.map((r) => r.source_job_id)).toEqual([...chosen].sort());
    const { rows: events } = await t.raw.query(
      "SELECT data FROM audit_events WHERE type = 'RETRY_BATCH_CREATED' AND subject_id = $1",
      [batchId],
    );
    expect(events[0].data).toMatchObject({ jobCount: 2, previewCount: 5 });

    const rest = await preview(filter);
    expect(rest.body.jobIds).toEqual(ids.filter((id) => !chosen.includes(id)));
    expect(rest.body.excluded.pendingIntent).toBe(2);
  });
});

describe("a filter over RETRY_BATCH_MAX, split by failure time", () => {
  it("offers consecutive windows of at most the maximum, each previewing as its own batch", async () => {
    await usePolicy(t, { RETRY_BATCH_MAX: "5" });
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await failedAtSecond(t, "windowed", "HTTP_TIMEOUT", i));
    const filter = { generator: "windowed", errorCode: "HTTP_TIMEOUT" };
    const start = await yesterdayAt(t, 0);
    const fifth = await yesterdayAt(t, 5);
    const tenth = await yesterdayAt(t, 10);

    const refused = await preview(filter);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: "BATCH_TOO_LARGE",
      details: { count: 6, max: 5, atLeast: true, rest: null },
    });
    // Each window ends before the failure that would make it one too many.
    expect(refused.body.error.details.windows).toEqual([
      { failedAfter: start, failedBefore: fifth, count: 5 },
      { failedAfter: fifth, failedBefore: tenth, count: 5 },
      { failedAfter: tenth, failedBefore: null, count: 2 },
    ]);

    const taken: string[] = [];
    for (const w of refused.body.error.details.windows as JsonBody[]) {
      const part = await preview({
        ...filter,
        failedAfter: w.failedAfter,
        ...(w.failedBefore ? { failedBefore: w.failedBefore } : {}),
      });
      expect(part.status).toBe(200);
      expect(part.body.count).toBe(w.count);
      taken.push(...part.body.jobIds);
    }
    expect(taken.sort()).toEqual(ids.sort());
  });

  it("stops after 10 windows and says where the rest begins", async () => {
    await usePolicy(t, { RETRY_BATCH_MAX: "1" });
    for (let i = 0; i < 13; i++) await failedAtSecond(t, "long", "LONG_OUTAGE", i);
    const refused = await preview({ errorCode: "LONG_OUTAGE" });
    expect(refused.status).toBe(409);
    const { windows, rest } = refused.body.error.details;
    expect(windows).toHaveLength(10);
    expect(windows.every((w: JsonBody) => w.count === 1)).toBe(true);
    expect(rest).toEqual({ failedAfter: windows[9].failedBefore, cause: "MORE_WINDOWS" });
    // The rest is split in its turn: three failures, one a window.
    const next = await preview({ errorCode: "LONG_OUTAGE", failedAfter: rest.failedAfter });
    expect(next.status).toBe(409);
    expect(next.body.error.details.windows.map((w: JsonBody) => w.count)).toEqual([1, 1, 1]);
    expect(next.body.error.details.rest).toBeNull();
  });

  it("says so when more than a batch failed at one instant, which no window splits", async () => {
    await usePolicy(t, { RETRY_BATCH_MAX: "5" });
    // One statement fails them all: one failure time.
    await failedJobs(t.db, 7, { generator: "instant", code: "SAME_TIME" });
    const refused = await preview({ errorCode: "SAME_TIME" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toMatchObject({
      windows: [],
      rest: { cause: "SAME_INSTANT" },
    });
  });
});

describe("what came of a batch's jobs", () => {
  it("counts the jobs the batch created by status, as they run and finish", async () => {
    const filter = { generator: "outcome", errorCode: "HTTP_STATUS_503" };
    for (let i = 0; i < 3; i++) await failedJobOf(t.db, "outcome", "HTTP_STATUS_503");
    const shown = await preview(filter);
    const batch = (await approve({ filter, previewToken: shown.body.previewToken })).body.batch;
    const detail = () => call(app, "GET", `${BATCHES}/${batch.id}`, { token: tokens.viewer });

    const approved = await detail();
    expect(approved.status).toBe(200);
    expect(approved.body.outcomes).toEqual({ pending: 0, running: 0, completed: 0, failed: 0 });

    const executed = await call(app, "POST", `${BATCHES}/${batch.id}/execute`, {
      token: tokens.admin,
    });
    expect(executed.body.created).toBe(3);
    const running = await detail();
    expect(running.body.outcomes).toEqual({ pending: 3, running: 0, completed: 0, failed: 0 });
    // The intents keep their documented shape; the jobs' statuses are in `outcomes`.
    expect(Object.keys(running.body.intents[0])).not.toContain("resultingJobStatus");

    const made = running.body.intents.map((i: JsonBody) => i.resultingJobId as string);
    await completeJob(t.db, made[0]);
    await completeJob(t.db, made[1]);
    await failJob(t.db, made[2], "HTTP_STATUS_503");
    expect((await detail()).body.outcomes).toEqual({
      pending: 0,
      running: 0,
      completed: 2,
      failed: 1,
    });
  });
});
