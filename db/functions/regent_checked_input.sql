-- Whether an input was checked against its generator's current input schema, as the
-- application says it was: p_checked maps generator names to the SHA-256 of each schema the
-- input matched ({"demo": "…"}). Refused: UNKNOWN_GENERATOR (the catalog does not hold the
-- generator), GENERATOR_SCHEMA_CHANGED when the map does not name the current schema (checked
-- against none, an old one, or one the input failed): the refusal carries the current version
-- and schema, to check the input against and ask again.
CREATE FUNCTION regent_checked_input(p_generator text, p_checked jsonb) RETURNS void LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v generator_versions%ROWTYPE;
BEGIN
  SELECT w.* INTO v
  FROM generators g JOIN generator_versions w ON w.generator = g.name AND w.version = g.current_version
  WHERE g.name = p_generator;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('UNKNOWN_GENERATOR', jsonb_build_object('generator', p_generator));
  END IF;
  IF p_checked->>p_generator IS DISTINCT FROM v.schema_sha256 THEN
    PERFORM regent_refuse_with('GENERATOR_SCHEMA_CHANGED', jsonb_build_object(
      'generator', v.generator, 'version', v.version, 'schemaSha256', v.schema_sha256,
      'inputSchema', v.input_schema));
  END IF;
END $$;

GRANT EXECUTE ON FUNCTION regent_checked_input(text, jsonb) TO regent_app;
