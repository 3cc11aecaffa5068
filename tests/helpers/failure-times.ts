/**
 * Failed jobs at failure times a test chooses, for what reads failures by time (a batch
 * preview's failure windows): the worker fails jobs at its own clock, which a test cannot space
 * apart. Written with raw SQL, as a sweep could fail a job, with the event the database insists
 * on, in one transaction.
 */
import { catalogue } from "./catalog";
import type { TestDatabase } from "./db";
import { rawPendingJob } from "./signals";

/** The instant `second` seconds into yesterday (UTC midnight), as the API shows instants. */
export async function yesterdayAt(t: TestDatabase, second: number): Promise<string> {
  const { rows } = await t.raw.query(
    "SELECT regent_iso(date_trunc('day', now()) - interval '1 day' + make_interval(secs => $1)) AS at",
    [second],
  );
  return rows[0].at as string;
}

/**
 * A job of `generator` that FAILED with `code` `second` seconds into yesterday: jobs failed this
 * way are whole seconds apart, so the windows they fall into are known. Returns its id.
 */
export async function failedAtSecond(
  t: TestDatabase,
  generator: string,
  code: string,
  second: number,
): Promise<string> {
  await catalogue(t.db, generator);
  const id = await rawPendingJob(t.raw, generator, 48);
  await t.raw.query("BEGIN");
  try {
    await t.raw.query(
      `UPDATE regeneration_jobs SET status = 'FAILED',
         finished_at = date_trunc('day', now()) - interval '1 day' + make_interval(secs => $2),
         error = jsonb_build_object('code', $3::text, 'message', 'failed by hand')
       WHERE id = $1`,
      [id, second, code],
    );
    await t.raw.query(
      "INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ('JOB_FAILED', 'psql', 'job', $1)",
      [id],
    );
    await t.raw.query("COMMIT");
  } catch (error) {
    await t.raw.query("ROLLBACK");
    throw error;
  }
  return id;
}
