-- Folds the tally rows into one per key (keys that sum to nothing go), and answers how many
-- rows it folded. Run after each worker invocation and each migration, so that a count stays
-- a sum over a few hundred rows. Rows a transaction still open appends are not seen and stay
-- for the next time; one folder at a time, and a second caller skips instead of waiting.
CREATE FUNCTION regent_compact_tallies() RETURNS integer LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_folded integer;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtextextended('regent.tallies', 0)) THEN
    RETURN 0;
  END IF;
  WITH folded AS (DELETE FROM tallies RETURNING *)
  INSERT INTO tallies (subject, generator, status, code, kind, reason, count)
  SELECT subject, generator, status, code, kind, reason, sum(count)
  FROM folded GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(count) <> 0;
  GET DIAGNOSTICS v_folded = ROW_COUNT;
  RETURN v_folded;
END $$;

GRANT EXECUTE ON FUNCTION regent_compact_tallies() TO regent_app;
