import type pg from "pg";

/** What a client was told was written: the ids of its 201 answers. */
export interface Acknowledged {
  jobs: readonly string[];
  intents: readonly string[];
}

export interface InvariantReport {
  jobs: number;
  intents: number;
  auditEvents: number;
  /** One sentence per broken rule, with up to five offending ids; empty when all hold. */
  violations: string[];
}

/**
 * Each rule as a query for the ids that break it. They restate the promises from the outside,
 * over the whole database, so a fault that slipped past both the domain and the triggers
 * (a write without its audit row, an intent consumed twice, a job claimed twice) shows here.
 */
const RULES: { rule: string; sql: string }[] = [
  {
    rule: "a job's audit rows are exactly its changes (one JOB_CREATED, a JOB_CLAIMED iff claimed, one finishing event iff finished, REGEN_JOB_RETRIED iff retried)",
    sql: `SELECT j.id FROM regeneration_jobs j,
            LATERAL (SELECT count(*) FILTER (WHERE type = 'JOB_CREATED') AS created,
                            count(*) FILTER (WHERE type = 'JOB_CLAIMED') AS claimed,
                            count(*) FILTER (WHERE type = 'JOB_COMPLETED') AS completed,
                            count(*) FILTER (WHERE type = 'JOB_FAILED') AS failed,
                            count(*) FILTER (WHERE type = 'REGEN_JOB_RETRIED') AS retried
                     FROM audit_events a
                     WHERE a.subject_type = 'job' AND a.subject_id = j.id) e
          WHERE e.created <> 1
             OR e.claimed <> (j.claimed_at IS NOT NULL)::int
             OR e.completed <> (j.status = 'COMPLETED')::int
             OR e.failed <> (j.status = 'FAILED')::int
             OR e.retried <> (EXISTS (SELECT 1 FROM regeneration_jobs r
                                      WHERE r.retry_of_job_id = j.id))::int`,
  },
  {
    rule: "an intent's audit rows are exactly its changes (one RETRY_INTENT_CREATED; CONSUMED and EXECUTED iff consumed)",
    sql: `SELECT i.id FROM retry_intents i,
            LATERAL (SELECT count(*) FILTER (WHERE type = 'RETRY_INTENT_CREATED') AS created,
                            count(*) FILTER (WHERE type = 'RETRY_INTENT_CONSUMED') AS consumed,
                            count(*) FILTER (WHERE type = 'RETRY_INTENT_EXECUTED') AS executed
                     FROM audit_events a
                     WHERE a.subject_type = 'retry_intent' AND a.subject_id = i.id) e
          WHERE e.created <> 1
             OR e.consumed <> (i.status = 'CONSUMED')::int
             OR e.executed <> (i.status = 'CONSUMED')::int`,
  },
  {
    rule: "a consumed intent has exactly one job, any other intent none",
    sql: `SELECT i.id FROM retry_intents i
          WHERE (SELECT count(*) FROM regeneration_jobs j WHERE j.retry_intent_id = i.id)
                <> (i.status = 'CONSUMED')::int`,
  },
  {
    rule: "no audit row names a job or intent that does not exist",
    sql: `SELECT a.subject_id AS id FROM audit_events a
          WHERE (a.subject_type = 'job'
                 AND NOT EXISTS (SELECT 1 FROM regeneration_jobs j WHERE j.id = a.subject_id))
             OR (a.subject_type = 'retry_intent'
                 AND NOT EXISTS (SELECT 1 FROM retry_intents i WHERE i.id = a.subject_id))`,
  },
  {
    rule: "a COMPLETED job has exactly one output, any other job none",
    sql: `SELECT j.id FROM regeneration_jobs j
          WHERE (SELECT count(*) FROM regeneration_outputs o WHERE o.job_id = j.id)
                <> (j.status = 'COMPLETED')::int`,
  },
  {
    rule: "the database's counters equal the rows' counts (each key as subject/generator/status/code/kind/reason)",
    sql: `WITH kept AS (
            SELECT subject, generator, status, code, kind, reason, sum(count) AS n
            FROM tallies GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(count) <> 0
          ), counted AS (
            SELECT 'job' AS subject, j.generator, j.status::text AS status,
                   CASE WHEN j.status = 'FAILED' THEN j.error->>'code' ELSE '' END AS code,
                   coalesce(i.kind::text, '') AS kind, coalesce(i.reason_code::text, '') AS reason,
                   count(*) AS n
            FROM regeneration_jobs j LEFT JOIN retry_intents i ON i.id = j.retry_intent_id
            GROUP BY 1, 2, 3, 4, 5, 6
            UNION ALL
            SELECT 'intent', '', status::text, '', kind::text, reason_code::text, count(*)
            FROM retry_intents GROUP BY 1, 2, 3, 4, 5, 6
          )
          SELECT concat_ws('/', coalesce(k.subject, c.subject), coalesce(k.generator, c.generator),
                           coalesce(k.status, c.status), coalesce(k.code, c.code),
                           coalesce(k.kind, c.kind), coalesce(k.reason, c.reason))
                 || ' kept ' || coalesce(k.n, 0) || ' counted ' || coalesce(c.n, 0) AS id
          FROM kept k FULL JOIN counted c USING (subject, generator, status, code, kind, reason)
          WHERE k.n IS DISTINCT FROM c.n`,
  },
  {
    rule: "open_failures holds exactly the FAILED jobs without a successor, each as it failed, with what was decided (pending while an intent waits, rejected when a person rejected the newest, else open)",
    sql: `SELECT coalesce(f.job_id, j.id) AS id
          FROM open_failures f
          FULL JOIN (SELECT j.id, j.generator, j.error->>'code' AS error_code, j.finished_at,
                            j.retry_of_job_id IS NOT NULL AS is_retry,
                            CASE WHEN EXISTS (SELECT 1 FROM retry_intents p
                                              WHERE p.source_job_id = j.id AND p.status = 'PENDING')
                                   THEN 'pending'
                                 WHEN (SELECT n.status = 'REJECTED' AND n.rejected_by <> 'system'
                                       FROM retry_intents n WHERE n.source_job_id = j.id
                                       ORDER BY n.created_at DESC, n.id DESC LIMIT 1)
                                   THEN 'rejected'
                                 ELSE 'open' END AS decision
                     FROM regeneration_jobs j
                     WHERE j.status = 'FAILED'
                       AND NOT EXISTS (SELECT 1 FROM regeneration_jobs r WHERE r.retry_of_job_id = j.id)) j
            ON j.id = f.job_id
          WHERE f.job_id IS NULL OR j.id IS NULL OR f.generator <> j.generator
             OR f.error_code <> j.error_code OR f.failed_at <> j.finished_at
             OR f.is_retry <> j.is_retry OR f.decision <> j.decision`,
  },
];

/**
 * Checks Regent's promises over one snapshot of the database (a read-only REPEATABLE READ
 * transaction, so a worker still running cannot make two queries disagree), and that every
 * acknowledged write is there.
 */
export async function checkInvariants(
  client: pg.Client,
  acknowledged: Acknowledged = { jobs: [], intents: [] },
): Promise<InvariantReport> {
  const violations: string[] = [];
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    const missing = async (table: string, ids: readonly string[]) => {
      const { rows } = await client.query<{ id: string }>(
        `SELECT id FROM unnest($1::text[]) AS id
         WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.id = id)`,
        [ids],
      );
      return rows.map((r) => r.id);
    };
    const lostJobs = await missing("regeneration_jobs", acknowledged.jobs);
    if (lostJobs.length > 0) {
      violations.push(`${lostJobs.length} acknowledged jobs are missing: ${sample(lostJobs)}`);
    }
    const lostIntents = await missing("retry_intents", acknowledged.intents);
    if (lostIntents.length > 0) {
      violations.push(
        `${lostIntents.length} acknowledged intents are missing: ${sample(lostIntents)}`,
      );
    }
    for (const { rule, sql } of RULES) {
      const { rows } = await client.query<{ id: string }>(sql);
      if (rows.length > 0) {
        violations.push(`${rows.length} break "${rule}": ${sample(rows.map((r) => r.id))}`);
      }
    }
    const { rows } = await client.query<{ jobs: number; intents: number; events: number }>(
      `SELECT (SELECT count(*)::int FROM regeneration_jobs) AS jobs,
              (SELECT count(*)::int FROM retry_intents) AS intents,
              (SELECT count(*)::int FROM audit_events) AS events`,
    );
    const counts = rows[0] as { jobs: number; intents: number; events: number };
    return {
      jobs: counts.jobs,
      intents: counts.intents,
      auditEvents: counts.events,
      violations,
    };
  } finally {
    await client.query("ROLLBACK");
  }
}

function sample(ids: string[]): string {
  return ids.slice(0, 5).join(", ") + (ids.length > 5 ? ", …" : "");
}
