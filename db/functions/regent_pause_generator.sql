-- Pauses a generator ({ctx, name, reasonText}): from now on the claim skips its jobs, which
-- wait PENDING; nothing else changes. GENERATOR_PAUSED names who and why. Refused:
-- GENERATOR_NOT_FOUND, GENERATOR_ALREADY_PAUSED. SECURITY DEFINER, as the catalog's other
-- writers. Returns {generator, version}.
CREATE FUNCTION regent_pause_generator(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  g generators%ROWTYPE;
BEGIN
  p := regent_authorized(p);
  p := jsonb_set(p, '{reasonText}', to_jsonb(regent_reason_text(p->>'reasonText')));
  UPDATE generators
  SET paused_at = now(), paused_by = p->'ctx'->>'actor', pause_reason = p->>'reasonText'
  WHERE name = p->>'name' AND paused_at IS NULL
  RETURNING * INTO g;
  IF NOT FOUND THEN
    SELECT * INTO g FROM generators WHERE name = p->>'name';
    IF NOT FOUND THEN
      PERFORM regent_refuse_with('GENERATOR_NOT_FOUND', jsonb_build_object('generator', p->>'name'));
    END IF;
    PERFORM regent_refuse_with('GENERATOR_ALREADY_PAUSED', jsonb_build_object(
      'generator', g.name, 'pausedAt', regent_iso(g.paused_at), 'pausedBy', g.paused_by));
  END IF;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'GENERATOR_PAUSED', 'subjectType', 'generator', 'subjectId', g.name,
    'data', jsonb_build_object('reasonText', g.pause_reason, 'version', g.current_version))));
  RETURN jsonb_build_object('generator', to_jsonb(g), 'version',
    (SELECT to_jsonb(v) FROM generator_versions v WHERE v.generator = g.name AND v.version = g.current_version));
END $$;

GRANT EXECUTE ON FUNCTION regent_pause_generator(jsonb) TO regent_app;
