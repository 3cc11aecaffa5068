-- Status moves, per statement (the row guard allows only PENDING→RUNNING|FAILED and
-- RUNNING→COMPLETED|FAILED): each has its event, and a COMPLETED job its output; no job of a
-- paused generator is claimed (GENERATOR_PAUSED: regent_claim_jobs skips them, and a claim
-- whose statement began before a pause committed is refused whole, to be made again). A lease
-- renewal moves nothing. The old and new rows are paired by id in a hash join (the guard keeps
-- ids unchanged): the plan is made once, and one made for a one-row statement would otherwise
-- pair a batch's rows by nested loop, 500 × 500.
CREATE FUNCTION regent_jobs_moved() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
SET enable_nestloop = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
  v_subjects text[];
  v_types text[];
  v_completed text[];
  v_paused text;
BEGIN
  IF EXISTS (SELECT 1 FROM generators WHERE paused_at IS NOT NULL) THEN
    SELECT n.generator INTO v_paused
    FROM moved_new n JOIN moved_old o ON o.id = n.id
    JOIN generators g ON g.name = n.generator AND g.paused_at IS NOT NULL
    WHERE o.status = 'PENDING' AND n.status = 'RUNNING'
    LIMIT 1;
    IF v_paused IS NOT NULL THEN
      PERFORM regent_refuse_with('GENERATOR_PAUSED', jsonb_build_object('generator', v_paused));
    END IF;
  END IF;
  SELECT array_agg(n.id),
         array_agg(CASE n.status WHEN 'RUNNING' THEN 'JOB_CLAIMED' WHEN 'COMPLETED' THEN 'JOB_COMPLETED'
                                 ELSE 'JOB_FAILED' END),
         array_agg(n.id) FILTER (WHERE n.status = 'COMPLETED')
    INTO v_subjects, v_types, v_completed
  FROM moved_new n JOIN moved_old o ON o.id = n.id
  WHERE o.status IS DISTINCT FROM n.status;
  IF v_subjects IS NOT NULL THEN
    PERFORM regent_require(v_subjects, v_types, coalesce(v_completed, '{}'), '{}', false);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER regeneration_jobs_moved_check AFTER UPDATE ON regeneration_jobs
  REFERENCING OLD TABLE AS moved_old NEW TABLE AS moved_new
  FOR EACH STATEMENT EXECUTE FUNCTION regent_jobs_moved();
