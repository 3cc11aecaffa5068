/**
 * The surge rule over real rows: retries created in the last hour exceed RETRY_SURGE_FACTOR ×
 * the hourly mean of the 24 hours before, and are at least RETRY_SURGE_MIN. Retry jobs are
 * made through the real retry flow and then judged at a moved "now", or written in the past
 * with their audit events where the rule needs a history.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { submitJob } from "../../functions/domain/jobs";
import { createRetryIntent } from "../../functions/domain/retry-intents";
import { createRetryJobFromIntent } from "../../functions/domain/retry-service";
import { readHourlySignals, readSurge, surgeOf } from "../../functions/domain/signals";
import { freshDatabase, type TestDatabase } from "../helpers/db";
import { admin, failJob, secondAdmin, submitter } from "../helpers/fixtures";
import { backdatedRetry } from "../helpers/signals";

const HOUR = 3_600_000;
const RULE = { factor: 3, min: 4 };

let t: TestDatabase;
/** When the five retries of the real flow were created (the newest of them). */
let madeAt: Date;

async function failedDemo() {
  const job = await submitJob(t.db, submitter, { generator: "demo", input: { text: "x" } });
  return failJob(t.db, job.id);
}

beforeAll(async () => {
  t = await freshDatabase();
  for (let i = 0; i < 5; i++) {
    const intent = await createRetryIntent(t.db, admin, {
      sourceJobId: (await failedDemo()).id,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "upstream flapped",
    });
    await createRetryJobFromIntent(t.db, secondAdmin, intent.id);
  }
  const { rows } = await t.raw.query<{ at: Date }>(
    "SELECT max(created_at) AS at FROM regeneration_jobs WHERE retry_intent_id IS NOT NULL",
  );
  madeAt = rows[0]?.at as Date;
});

const later = (ms: number) => new Date(madeAt.getTime() + ms);

describe("the surge rule at a moved now", () => {
  it("surges while the five retries are within the last hour, over a quiet day", async () => {
    expect(await readSurge(t.db, RULE, later(30 * 60_000))).toEqual({
      lastHour: 5,
      trailingHourlyMean: 0,
      factor: 3,
      min: 4,
      surging: true,
    });
  });

  it("calms once they are older than an hour, and skips the trailing count below the minimum", async () => {
    expect(await readSurge(t.db, RULE, later(90 * 60_000))).toEqual({
      lastHour: 0,
      trailingHourlyMean: null,
      factor: 3,
      min: 4,
      surging: false,
    });
  });

  it("does not surge below the minimum, whatever the mean", async () => {
    const surge = await readSurge(t.db, { factor: 3, min: 6 }, later(30 * 60_000));
    expect(surge).toMatchObject({ lastHour: 5, surging: false });
  });

  it("places them in the hourly series: the second-to-last hour, 90 minutes later", async () => {
    const hourly = await readHourlySignals(t.db, RULE, later(90 * 60_000));
    expect(hourly.hours).toHaveLength(24);
    expect(hourly.hours.map((h) => h.retries)).toEqual([...new Array(22).fill(0), 5, 0]);
    expect(hourly.hours[23]?.end.getTime()).toBe(later(90 * 60_000).getTime());
    const hour = hourly.hours[22];
    expect(hour && hour.end.getTime() - hour.start.getTime()).toBe(HOUR);
    expect(hourly.surge).toEqual({
      lastHour: 0,
      trailingHourlyMean: 5 / 24,
      factor: 3,
      min: 4,
      surging: false,
    });
  });

  it("forgets them after 25 hours", async () => {
    const hourly = await readHourlySignals(t.db, RULE, later(25.5 * HOUR));
    expect(hourly.hours.every((h) => h.retries === 0)).toBe(true);
    expect(hourly.surge.trailingHourlyMean).toBe(0);
  });
});

describe("the surge rule over a busy day", () => {
  beforeAll(async () => {
    // 48 retries three to four hours before now: an hourly mean of 2 over the trailing day.
    for (let i = 0; i < 48; i++) {
      await backdatedRetry(t.raw, (await failedDemo()).id, 3 + i / 48);
    }
  });

  it("counts the history in the trailing mean, not in the last hour", async () => {
    const now = later(30 * 60_000);
    const hourly = await readHourlySignals(t.db, RULE, now);
    expect(hourly.surge).toMatchObject({ lastHour: 5, trailingHourlyMean: 2 });
    expect(hourly.hours.reduce((n, h) => n + h.retries, 0)).toBe(53);
  });

  it("does not surge on 5 retries against a mean of 2 with a factor of 3, and does with 2", async () => {
    const now = later(30 * 60_000);
    expect((await readSurge(t.db, RULE, now)).surging).toBe(false);
    expect(await readSurge(t.db, { factor: 2, min: 4 }, now)).toEqual({
      lastHour: 5,
      trailingHourlyMean: 2,
      factor: 2,
      min: 4,
      surging: true,
    });
  });

  it("turns on when more retries arrive in the last hour, by the database's own clock", async () => {
    expect((await readSurge(t.db, RULE)).surging).toBe(false);
    for (let i = 0; i < 2; i++) {
      await backdatedRetry(t.raw, (await failedDemo()).id, 0.25, "INFRA_ERROR");
    }
    // 7 in the last hour > 3 × 2.
    expect(await readSurge(t.db, RULE)).toMatchObject({ lastHour: 7, surging: true });
  });
});

describe("surgeOf", () => {
  it("needs both: more than factor × mean, and at least the minimum", () => {
    expect(surgeOf(10, 24, { factor: 3, min: 10 }).surging).toBe(true);
    expect(surgeOf(3, 24, { factor: 3, min: 10 }).surging).toBe(false);
    expect(surgeOf(9, 0, { factor: 3, min: 10 }).surging).toBe(false);
    expect(surgeOf(30, 240, { factor: 3, min: 10 }).surging).toBe(false);
    expect(surgeOf(31, 240, { factor: 3, min: 10 }).surging).toBe(true);
    expect(surgeOf(12, null, { factor: 3, min: 10 }).surging).toBe(false);
  });
});
