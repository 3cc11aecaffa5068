import { beforeAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db";

/**
 * The commit-time check "this change has its audit event" runs once per changed row, so its
 * plan matters: it must be one probe of the subject index on (subject_id, type), even on a
 * table PostgreSQL has no statistics for yet (a fresh database, a burst of submissions).
 */
let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
  await t.raw.query("BEGIN");
  await t.raw.query(`INSERT INTO regeneration_jobs (id, generator, input, created_by)
    SELECT 'plan' || g, 'demo', '{}', 'test' FROM generate_series(1, 5000) g`);
  await t.raw.query(`INSERT INTO audit_events (type, actor, subject_type, subject_id)
    SELECT 'JOB_CREATED', 'test', 'job', 'plan' || g FROM generate_series(1, 5000) g`);
  await t.raw.query("COMMIT");
});

it("finds a change's audit event with one index probe on subject and type, without statistics", async () => {
  const { rows } = await t.raw.query(`EXPLAIN (FORMAT JSON)
    SELECT 1 FROM audit_events WHERE subject_id = 'plan42' AND type = 'JOB_CREATED' AND tx_id = pg_current_xact_id()`);
  const plan = rows[0]["QUERY PLAN"][0].Plan;
  expect(plan["Node Type"]).toBe("Index Scan");
  expect(plan["Index Name"]).toBe("audit_events_subject_idx");
  expect(plan["Index Cond"]).toMatch(/subject_id = 'plan42'.*type = 'JOB_CREATED'/);
});
