import type pg from "pg";
import type { Output } from "../../db/schema";

/**
 * Inserts `count` PENDING demo jobs with their JOB_CREATED events in one transaction, as a
 * bulk import would (ids made in SQL: cuid2 costs ~170 µs an id). Returns their ids, oldest first.
 */
export async function insertDemoJobs(
  raw: pg.Client,
  count: number,
  prefix = `bulk${Math.random().toString(36).slice(2, 8)}`,
): Promise<string[]> {
  await raw.query("BEGIN");
  try {
    const { rows } = await raw.query<{ id: string }>(
      `INSERT INTO regeneration_jobs (id, generator, input, created_by, created_at)
       SELECT $2 || lpad(g::text, 6, '0'), 'demo', jsonb_build_object('text', 'job ' || g),
              'token:bulk', now() + g * interval '1 microsecond'
       FROM generate_series(1, $1::int) g
       RETURNING id`,
      [count, prefix],
    );
    await raw.query(
      `INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
       SELECT 'JOB_CREATED', 'token:bulk', 'job', id, '{"generator":"demo"}' FROM unnest($1::text[]) id`,
      [rows.map((r) => r.id)],
    );
    await raw.query("COMMIT");
    return rows.map((r) => r.id).sort();
  } catch (error) {
    await raw.query("ROLLBACK");
    throw error;
  }
}

/** Collects the invocation's log lines instead of printing them. */
export function logSink(): { lines: string[]; log: (line: string) => void } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line) };
}

/** A job row exactly as stored, for before/after comparisons. */
export async function rawJob(raw: pg.Client, id: string): Promise<Record<string, unknown>> {
  const { rows } = await raw.query("SELECT * FROM regeneration_jobs WHERE id = $1", [id]);
  if (!rows[0]) throw new Error(`no job ${id}`);
  return rows[0];
}

export async function outputsOf(raw: pg.Client, jobId: string): Promise<Output[]> {
  const { rows } = await raw.query(
    `SELECT id, job_id AS "jobId", content, content_sha256 AS "contentSha256",
            generator_version AS "generatorVersion", created_at AS "createdAt"
     FROM regeneration_outputs WHERE job_id = $1`,
    [jobId],
  );
  return rows as Output[];
}

export async function eventTypes(raw: pg.Client, subjectId: string): Promise<string[]> {
  const { rows } = await raw.query<{ type: string }>(
    "SELECT type FROM audit_events WHERE subject_id = $1 ORDER BY id",
    [subjectId],
  );
  return rows.map((r) => r.type);
}
