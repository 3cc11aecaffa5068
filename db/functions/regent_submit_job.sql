-- Submits a job ({ctx, generator, input, checkedAgainst}): the PENDING job and its JOB_CREATED
-- event, and a wake-up for the worker. The generator must be in the catalog and the input
-- checked against its current input schema (regent_checked_input: UNKNOWN_GENERATOR,
-- GENERATOR_SCHEMA_CHANGED). Returns {job}.
CREATE FUNCTION regent_submit_job(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  j regeneration_jobs%ROWTYPE;
BEGIN
  PERFORM regent_checked_input(p->>'generator', p->'checkedAgainst');
  INSERT INTO regeneration_jobs (id, generator, input, created_by)
  VALUES (regent_new_id(), p->>'generator', p->'input', p->'ctx'->>'actor')
  RETURNING * INTO j;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'JOB_CREATED', 'subjectType', 'job', 'subjectId', j.id,
    'data', jsonb_build_object('generator', j.generator))));
  PERFORM pg_notify('regent_job_created', '');
  RETURN jsonb_build_object('job', to_jsonb(j));
END $$;

GRANT EXECUTE ON FUNCTION regent_submit_job(jsonb) TO regent_app;
