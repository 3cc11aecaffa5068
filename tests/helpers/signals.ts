/**
 * Rows the signals tests need and no domain function makes: jobs with names the API refuses,
 * jobs and retries in the past, an intent already expired. Each is written with raw SQL, as a
 * human at psql would, in one transaction with the audit events the database insists on.
 */
import type pg from "pg";

export const rawId = (prefix = "t") => `${prefix}${Math.random().toString(36).slice(2, 12)}`;

async function inTransaction(raw: pg.Client, work: () => Promise<void>): Promise<void> {
  await raw.query("BEGIN");
  try {
    await work();
    await raw.query("COMMIT");
  } catch (error) {
    await raw.query("ROLLBACK");
    throw error;
  }
}

const audit = (raw: pg.Client, type: string, subjectType: string, subjectId: string) =>
  raw.query(
    "INSERT INTO audit_events (type, actor, subject_type, subject_id) VALUES ($1, 'psql', $2, $3)",
    [type, subjectType, subjectId],
  );

/** A PENDING job created `hoursAgo` hours ago. */
export async function rawPendingJob(raw: pg.Client, generator: string, hoursAgo = 0) {
  const id = rawId("p");
  await inTransaction(raw, async () => {
    await raw.query(
      `INSERT INTO regeneration_jobs (id, generator, input, created_by, created_at)
       VALUES ($1, $2, '{}', 'psql', now() - make_interval(secs => $3::float8 * 3600))`,
      [id, generator, hoursAgo],
    );
    await audit(raw, "JOB_CREATED", "job", id);
  });
  return id;
}

/** A job of any generator name FAILED with `code` straight from PENDING, as a sweep could. */
export async function rawFailedJob(raw: pg.Client, generator: string, code: string) {
  const id = await rawPendingJob(raw, generator);
  await inTransaction(raw, async () => {
    await raw.query(
      `UPDATE regeneration_jobs SET status = 'FAILED', finished_at = now(),
         error = jsonb_build_object('code', $2::text, 'message', 'failed by hand')
       WHERE id = $1`,
      [id, code],
    );
    await audit(raw, "JOB_FAILED", "job", id);
  });
  return id;
}

/** Claims a PENDING job for a worker that will never finish it. */
export async function rawClaim(raw: pg.Client, jobId: string) {
  await inTransaction(raw, async () => {
    await raw.query(
      `UPDATE regeneration_jobs SET status = 'RUNNING', claimed_by = 'worker:elsewhere',
         claimed_at = now(), lease_expires_at = now() + interval '1 hour'
       WHERE id = $1 AND status = 'PENDING'`,
      [jobId],
    );
    await audit(raw, "JOB_CLAIMED", "job", jobId);
  });
}

/**
 * A retry of the FAILED job `sourceJobId` created `hoursAgo` hours ago: its intent approved a
 * minute before and consumed then, the retry job inserted with that creation time. The triggers
 * refuse to move a job's created_at, not to insert one in the past.
 */
export async function backdatedRetry(
  raw: pg.Client,
  sourceJobId: string,
  hoursAgo: number,
  reasonCode = "TRANSIENT_FAILURE",
): Promise<{ intentId: string; jobId: string }> {
  const intentId = rawId("i");
  const jobId = rawId("r");
  const at = "now() - make_interval(secs => $2::float8 * 3600)";
  await inTransaction(raw, async () => {
    await raw.query(
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by,
         approved_at, created_at, expires_at)
       VALUES ($1, $3, $4, 'backdated', 'psql', ${at} - interval '1 minute',
         ${at} - interval '1 minute', now() + interval '1 hour')`,
      [intentId, hoursAgo, sourceJobId, reasonCode],
    );
    await audit(raw, "RETRY_INTENT_CREATED", "retry_intent", intentId);
    await raw.query(
      `UPDATE retry_intents SET status = 'CONSUMED', consumed_by = 'psql', consumed_at = ${at}
       WHERE id = $1`,
      [intentId, hoursAgo],
    );
    await audit(raw, "RETRY_INTENT_CONSUMED", "retry_intent", intentId);
    await raw.query(
      `INSERT INTO regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id,
         created_by, created_at)
       SELECT $1, generator, input, id, $3, 'psql', ${at} FROM regeneration_jobs WHERE id = $4`,
      [jobId, hoursAgo, intentId, sourceJobId],
    );
    await audit(raw, "JOB_CREATED", "job", jobId);
    await audit(raw, "REGEN_JOB_RETRIED", "job", sourceJobId);
  });
  return { intentId, jobId };
}

/** A PENDING intent for `sourceJobId`, approved two hours ago, that expired an hour ago. */
export async function rawExpiredIntent(raw: pg.Client, sourceJobId: string): Promise<string> {
  const intentId = rawId("i");
  await inTransaction(raw, async () => {
    await raw.query(
      `INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by,
         approved_at, created_at, expires_at)
       VALUES ($1, $2, 'OTHER', 'approved long ago', 'psql', now() - interval '2 hours',
         now() - interval '2 hours', now() - interval '1 hour')`,
      [intentId, sourceJobId],
    );
    await audit(raw, "RETRY_INTENT_CREATED", "retry_intent", intentId);
  });
  return intentId;
}
