-- Resumes a paused generator ({ctx, name, reasonText}): its waiting jobs are claimable again,
-- and the workers listening are woken. GENERATOR_RESUMED names who and why, and the pause it
-- ends. Refused: GENERATOR_NOT_FOUND, GENERATOR_NOT_PAUSED. SECURITY DEFINER, as the
-- catalog's other writers. Returns {generator, version}.
CREATE FUNCTION regent_resume_generator(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  before generators%ROWTYPE;
  g generators%ROWTYPE;
BEGIN
  p := regent_authorized(p);
  p := jsonb_set(p, '{reasonText}', to_jsonb(regent_reason_text(p->>'reasonText')));
  SELECT * INTO before FROM generators WHERE name = p->>'name' FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('GENERATOR_NOT_FOUND', jsonb_build_object('generator', p->>'name'));
  END IF;
  IF before.paused_at IS NULL THEN
    PERFORM regent_refuse_with('GENERATOR_NOT_PAUSED', jsonb_build_object('generator', before.name));
  END IF;
  UPDATE generators SET paused_at = NULL, paused_by = NULL, pause_reason = NULL
  WHERE name = before.name
  RETURNING * INTO g;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'GENERATOR_RESUMED', 'subjectType', 'generator', 'subjectId', g.name,
    'data', jsonb_build_object('reasonText', p->>'reasonText', 'version', g.current_version,
                               'pausedAt', regent_iso(before.paused_at), 'pausedBy', before.paused_by,
                               'pauseReason', before.pause_reason))));
  PERFORM pg_notify('regent_job_created', '');
  RETURN jsonb_build_object('generator', to_jsonb(g), 'version',
    (SELECT to_jsonb(v) FROM generator_versions v WHERE v.generator = g.name AND v.version = g.current_version));
END $$;

GRANT EXECUTE ON FUNCTION regent_resume_generator(jsonb) TO regent_app;
