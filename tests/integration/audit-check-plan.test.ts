import { beforeAll, expect, it } from "vitest";
import { freshDatabase, type TestDatabase } from "../helpers/db";

/**
 * The commit-time check "this change has its audit event" runs once per changed row (intents)
 * or once per statement for all its rows (jobs and outputs), so its
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

it("checks a statement's many rows with the same probe per row, with the plan pinned and no JIT", async () => {
  const { rows: config } = await t.raw.query(
    "SELECT proconfig FROM pg_proc WHERE proname = 'regent_require'",
  );
  expect(config[0].proconfig).toEqual(
    expect.arrayContaining(["enable_seqscan=off", "enable_hashjoin=off", "jit=off"]),
  );
  // The set-based check's query, under the settings its function runs with.
  await t.raw.query("BEGIN");
  try {
    for (const setting of config[0].proconfig as string[]) {
      const [name, value] = setting.split("=");
      await t.raw.query(`SELECT set_config($1, $2, true)`, [name, value]);
    }
    const { rows } = await t.raw.query(
      `EXPLAIN (FORMAT JSON)
       SELECT r.subject_id FROM unnest($1::text[], $2::text[]) AS r(subject_id, type)
       WHERE NOT EXISTS (SELECT 1 FROM audit_events e
                         WHERE e.subject_id = r.subject_id AND e.type || '' = r.type
                           AND e.tx_id = pg_current_xact_id())`,
      [
        Array.from({ length: 500 }, (_, i) => `plan${i + 1}`),
        Array.from({ length: 500 }, () => "JOB_CREATED"),
      ],
    );
    const plan = JSON.stringify(rows[0]["QUERY PLAN"]);
    expect(plan).toMatch(/"Node Type":"Nested Loop"/);
    expect(plan).toMatch(/"Index Name":"audit_events_subject_idx"/);
    expect(plan).not.toMatch(/Seq Scan|audit_events_type_idx/);
  } finally {
    await t.raw.query("ROLLBACK");
  }
});
