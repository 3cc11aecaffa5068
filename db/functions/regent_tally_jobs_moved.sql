-- Status moves, per statement: each job leaves its old key (-1) and joins its new one (+1).
-- The two sides are summed per key rather than paired by id: a row whose status did not move
-- (a lease renewal) cancels out, and a key whose changes sum to nothing gets no row. The
-- intent that made a job is looked up only for jobs that have one.
CREATE FUNCTION regent_tally_jobs_moved() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO tallies (subject, generator, status, code, kind, reason, count)
  SELECT 'job', m.generator, m.status::text,
         CASE WHEN m.status = 'FAILED' THEN m.error->>'code' ELSE '' END,
         coalesce(i.kind::text, ''), coalesce(i.reason_code::text, ''), sum(m.change)
  FROM (SELECT generator, status, error, retry_intent_id, -1 AS change FROM moved_old
        UNION ALL
        SELECT generator, status, error, retry_intent_id, 1 FROM moved_new) m
  LEFT JOIN LATERAL (SELECT kind, reason_code FROM retry_intents WHERE id = m.retry_intent_id) i ON true
  GROUP BY 2, 3, 4, 5, 6
  HAVING sum(m.change) <> 0;
  RETURN NULL;
END $$;

CREATE TRIGGER regeneration_jobs_tally_moved AFTER UPDATE ON regeneration_jobs
  REFERENCING OLD TABLE AS moved_old NEW TABLE AS moved_new
  FOR EACH STATEMENT EXECUTE FUNCTION regent_tally_jobs_moved();
