-- How long an intent approved by p stays executable, in whole hours: p.expiresInHours, or the
-- policy's default; refused (VALIDATION_FAILED) outside 1 to the policy's longest lifetime.
CREATE FUNCTION regent_intent_hours(p jsonb) RETURNS integer LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  policy constant regent_policy := regent_policy();
  v_asked constant numeric := coalesce((p->>'expiresInHours')::numeric, policy.intent_ttl_hours);
BEGIN
  IF v_asked <> trunc(v_asked) OR v_asked NOT BETWEEN 1 AND policy.intent_ttl_max_hours THEN
    PERFORM regent_refuse_with('VALIDATION_FAILED', jsonb_build_object(
      'field', 'expiresInHours', 'min', 1, 'max', policy.intent_ttl_max_hours));
  END IF;
  RETURN v_asked::integer;
END $$;

GRANT EXECUTE ON FUNCTION regent_intent_hours(jsonb) TO regent_app;
