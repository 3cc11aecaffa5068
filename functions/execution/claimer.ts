/**
 * The execution plane's SQL: claim (a function of the database's core), finish, sweep, renew.
 * Each is one statement, hence one transaction, whatever the driver (node-postgres, PGlite,
 * Neon); each writes its audit events in that same statement, as the database's commit-time
 * checks demand.
 *
 * Batches travel as one JSON parameter (jsonb_to_recordset) rather than as arrays: the three
 * drivers agree on JSON text, and the statement text stays the same whatever the batch size.
 * The statements are not named prepared statements: parsing and planning one costs 0.2–0.5 ms
 * per batch of 500 jobs (about 1 µs a job), too little to be worth a driver-specific path.
 */
import { sql } from "drizzle-orm";
import type { JobError } from "../../db/schema";
import { type Executor, rowsOf } from "../../db/types";
import { raisedRefusal } from "../domain/refusals";
import type { ClaimedJob } from "./generators/registry";

export interface Claimant {
  /** `claimed_by`: the id of one worker invocation. */
  workerId: string;
  /** The audit actor, `worker:<workerId>`. */
  actor: string;
}

interface ClaimRow {
  id: string;
  generator: string;
  input: unknown;
  retry_of_job_id: string | null;
  retry_intent_id: string | null;
  retry_depth: number | string;
}

/**
 * Moves up to `batchSize` PENDING jobs, oldest first, to RUNNING for this claimant, writes
 * their JOB_CLAIMED events, and returns them with their retry depth — all in one statement, the
 * database's `regent_claim_jobs` (db/functions/regent_claim_jobs.sql, which explains its plan).
 * A paused generator's jobs are skipped: they wait PENDING.
 *
 * A claim whose statement started before a pause committed may have picked that generator's
 * jobs; the database refuses such a claim whole (GENERATOR_PAUSED), and it is made again, now
 * seeing the pause.
 * Measured on the 2-core development machine, batch of 500: 12.5 ms for the statement (row
 * and index writes, JOB_CLAIMED inserts) plus the commit-time audit check, ≈ 1.5 ms since it is
 * set-based (the set_based_checks migration): ≈ 30 µs a job.
 */
export async function claimJobs(
  db: Executor,
  claimant: Claimant,
  options: { batchSize: number; leaseSeconds: number },
): Promise<Omit<ClaimedJob, "leaseExpiresAtMs">[]> {
  const p = JSON.stringify({
    workerId: claimant.workerId,
    actor: claimant.actor,
    batchSize: options.batchSize,
    leaseSeconds: options.leaseSeconds,
  });
  let result: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      result = await db.execute(sql`SELECT * FROM regent_claim_jobs(${p}::jsonb)`);
      break;
    } catch (error) {
      if (raisedRefusal(error)?.code !== "GENERATOR_PAUSED" || attempt >= 3) throw error;
    }
  }
  return rowsOf<ClaimRow>(result).map((row) => ({
    id: row.id,
    generator: row.generator,
    input: row.input,
    retryOfJobId: row.retry_of_job_id,
    retryIntentId: row.retry_intent_id,
    retryDepth: Number(row.retry_depth),
  }));
}

/** What became of one claimed job. */
export type Outcome =
  | {
      jobId: string;
      ok: true;
      /** Canonical JSON text of the output. */
      content: string;
      /** SHA-256 (hex) of `content`; "" leaves it to finishJobs, which hashes in the database. */
      contentSha256: string;
      generatorVersion: string;
    }
  | { jobId: string; ok: false; error: JobError };

/**
 * Records many outcomes in one statement: each job moves RUNNING→COMPLETED (with its output
 * row) or RUNNING→FAILED (with its error), with its JOB_COMPLETED or JOB_FAILED event.
 *
 * One guarded UPDATE decides which jobs are still this claimant's to finish
 * (`status = 'RUNNING' AND claimed_by = …`); outputs and events are written only for the rows
 * it returns. A job the sweeper failed meanwhile (its lease lapsed), or one finished already,
 * is not returned, so a late or repeated finish changes nothing. Returns the ids finished.
 *
 * One statement instead of BEGIN/UPDATE/INSERT/INSERT/COMMIT: four round trips fewer per
 * batch. The outcome values ride along in the UPDATE's RETURNING, so outputs and events need
 * no second join (a join on the CTE was planned as a 500×500 nested loop: 28 ms a batch).
 * Measured, batch of 500: 19 ms for the statement plus 8 ms of commit-time checks
 * (audit event and output present), ≈ 55 µs a job; set-based since the set_based_checks
 * migration, the checks take ≈ 3 ms.
 *
 * The guard compares `status::text`, which no index holds, so that the rows are found by
 * primary key: compared as an enum, the planner walked the (status, created_at) index through
 * every RUNNING job of every worker and filtered them by id, 11–16 ms a batch of 500 with
 * 1,000 jobs running instead of 1–5 ms.
 *
 * `content_sha256` is computed here, in the statement, for an outcome that does not bring its
 * own: PostgreSQL's sha256() costs about 1 µs an output, WebCrypto's digest in Node about
 * 16 µs of the worker's CPU (20,000 outputs: 319 ms), on a machine whose cores the worker
 * shares with the database. The bytes hashed are the same: the canonical JSON text, as UTF-8.
 */
export async function finishJobs(
  db: Executor,
  claimant: Claimant,
  outcomes: readonly Outcome[],
): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const batch = JSON.stringify(
    outcomes.map((o) =>
      o.ok
        ? {
            id: o.jobId,
            content: o.content,
            sha: o.contentSha256 || null,
            version: o.generatorVersion,
          }
        : { id: o.jobId, error: o.error },
    ),
  );
  const result = await db.execute(sql`
    WITH outcome AS (
      SELECT * FROM jsonb_to_recordset(${batch}::jsonb)
        AS o(id text, content text, sha text, version text, error jsonb)
    ), finished AS (
      UPDATE regeneration_jobs AS j
      SET status = (CASE WHEN o.error IS NULL THEN 'COMPLETED' ELSE 'FAILED' END)::job_status,
          finished_at = now(), error = o.error
      FROM outcome o
      WHERE j.id = ANY (ARRAY(SELECT id FROM outcome)) AND j.id = o.id
        AND j.status::text = 'RUNNING' AND j.claimed_by = ${claimant.workerId}
      -- The output's id is the database's, as every row's (regent_new_id).
      RETURNING j.id, CASE WHEN o.error IS NULL THEN regent_new_id() END AS output_id, o.content, o.version, o.error,
                coalesce(o.sha, encode(sha256(convert_to(o.content, 'UTF8')), 'hex')) AS sha
    ), outputs AS (
      INSERT INTO regeneration_outputs (id, job_id, content, content_sha256, generator_version)
      SELECT output_id, id, content::jsonb, sha, version FROM finished WHERE error IS NULL
    ), audited AS (
      INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
      SELECT CASE WHEN error IS NULL THEN 'JOB_COMPLETED' ELSE 'JOB_FAILED' END,
             ${claimant.actor}, 'job', id,
             CASE WHEN error IS NULL
               THEN jsonb_build_object('outputId', output_id, 'contentSha256', sha,
                                       'generatorVersion', version)
               -- What the service answered may quote its data: the job's row keeps it for
               -- admins; the event, which viewers read and nobody can delete, does not.
               ELSE error - 'upstream' END
      FROM finished
    )
    SELECT id FROM finished`);
  return new Set(rowsOf<{ id: string }>(result).map((row) => row.id));
}

/**
 * Fails RUNNING jobs whose lease lapsed with LEASE_EXPIRED, with their JOB_FAILED events.
 * Such a job is never run again automatically: its worker may have run it half-way, so
 * recovering it is a human decision, through a RetryIntent. `SKIP LOCKED`: a job whose row is
 * locked is being finished by its worker right now; the next sweep sees how that ended.
 */
export async function sweepExpiredLeases(
  db: Executor,
  actor: string,
  limit = 1000,
): Promise<string[]> {
  const result = await db.execute(sql`
    WITH expired AS (
      SELECT id FROM regeneration_jobs
      WHERE status = 'RUNNING' AND lease_expires_at < now()
      ORDER BY lease_expires_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), failed AS (
      UPDATE regeneration_jobs AS j
      SET status = 'FAILED', finished_at = now(),
          error = jsonb_build_object(
            'code', 'LEASE_EXPIRED',
            'message', format('the claim of %s lapsed at %s before the job finished; it is not run again automatically: recover it with a retry intent',
                              j.claimed_by, j.lease_expires_at))
      WHERE j.id = ANY (ARRAY(SELECT id FROM expired)) AND j.status = 'RUNNING'
      RETURNING j.id, j.claimed_by, j.error
    )
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
    SELECT 'JOB_FAILED', ${actor}, 'job', id, error || jsonb_build_object('claimedBy', claimed_by)
    FROM failed
    RETURNING subject_id`);
  return rowsOf<{ subject_id: string }>(result).map((row) => row.subject_id);
}

/**
 * Extends the lease of jobs this claimant holds and has not started yet (RUNNING→RUNNING
 * may change nothing but the lease). A lease that lapsed already stays lapsed: the sweeper
 * of another worker may be failing that job. Returns the ids renewed.
 */
export async function renewLeases(
  db: Executor,
  claimant: Claimant,
  jobIds: readonly string[],
  leaseSeconds: number,
): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const result = await db.execute(sql`
    UPDATE regeneration_jobs
    SET lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
    WHERE id = ANY (ARRAY(SELECT jsonb_array_elements_text(${JSON.stringify(jobIds)}::jsonb)))
      AND status = 'RUNNING' AND claimed_by = ${claimant.workerId} AND lease_expires_at > now()
    RETURNING id`);
  return new Set(rowsOf<{ id: string }>(result).map((row) => row.id));
}
