-- Status moves, per statement (the row guard allows only PENDING→RUNNING|FAILED and
-- RUNNING→COMPLETED|FAILED): each has its event, and a COMPLETED job its output. A lease
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
BEGIN
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
