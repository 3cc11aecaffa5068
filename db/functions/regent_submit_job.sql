-- Submits a job ({ctx, generator, input, schemaSha256}): the PENDING job and its JOB_CREATED
-- event, and a wake-up for the worker. The generator must be in the catalog
-- (UNKNOWN_GENERATOR), and `schemaSha256` must name its current input schema: the one the
-- application checked the input against. Any other (a catalog it read before a new version was
-- published, or none) is refused with GENERATOR_SCHEMA_CHANGED, which carries the current
-- version and schema to check the input against and ask again. Returns {job}.
CREATE FUNCTION regent_submit_job(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  j regeneration_jobs%ROWTYPE;
  v generator_versions%ROWTYPE;
BEGIN
  SELECT v1.* INTO v
  FROM generators g JOIN generator_versions v1 ON v1.generator = g.name AND v1.version = g.current_version
  WHERE g.name = p->>'generator';
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('UNKNOWN_GENERATOR', jsonb_build_object('generator', p->>'generator'));
  END IF;
  IF p->>'schemaSha256' IS DISTINCT FROM v.schema_sha256 THEN
    PERFORM regent_refuse_with('GENERATOR_SCHEMA_CHANGED', jsonb_build_object(
      'generator', v.generator, 'version', v.version, 'schemaSha256', v.schema_sha256,
      'inputSchema', v.input_schema));
  END IF;
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
