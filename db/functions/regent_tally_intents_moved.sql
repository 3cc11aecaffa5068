-- Intent decisions, per statement: each intent leaves its old key and joins its new one, summed
-- per key as for jobs (regent_tally_jobs_moved), so that an update that moved nothing writes
-- nothing.
CREATE FUNCTION regent_tally_intents_moved() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO tallies (subject, status, kind, reason, count)
  SELECT 'intent', m.status::text, m.kind::text, m.reason_code::text, sum(m.change)
  FROM (SELECT status, kind, reason_code, -1 AS change FROM moved_old
        UNION ALL
        SELECT status, kind, reason_code, 1 FROM moved_new) m
  GROUP BY 2, 3, 4
  HAVING sum(m.change) <> 0;
  RETURN NULL;
END $$;

CREATE TRIGGER retry_intents_tally_moved AFTER UPDATE ON retry_intents
  REFERENCING OLD TABLE AS moved_old NEW TABLE AS moved_new
  FOR EACH STATEMENT EXECUTE FUNCTION regent_tally_intents_moved();
