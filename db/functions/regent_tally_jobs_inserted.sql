-- New jobs, per statement: one tally row per key the statement adds to (generator, status,
-- the error code of a FAILED job, and the kind and reason code of the intent that made it), in
-- the inserting transaction. SECURITY DEFINER: the application reads the counts and cannot
-- write one of its own.
CREATE FUNCTION regent_tally_jobs_inserted() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO tallies (subject, generator, status, code, kind, reason, count)
  SELECT 'job', n.generator, n.status::text,
         CASE WHEN n.status = 'FAILED' THEN n.error->>'code' ELSE '' END,
         coalesce(i.kind::text, ''), coalesce(i.reason_code::text, ''), count(*)
  FROM inserted n
  LEFT JOIN LATERAL (SELECT kind, reason_code FROM retry_intents WHERE id = n.retry_intent_id) i ON true
  GROUP BY 2, 3, 4, 5, 6;
  RETURN NULL;
END $$;

CREATE TRIGGER regeneration_jobs_tally_inserted AFTER INSERT ON regeneration_jobs
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION regent_tally_jobs_inserted();
