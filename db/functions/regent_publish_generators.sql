-- Publishes the generators a worker runs ({ctx, generators: [{name, version, inputSchema}]}),
-- at migrate time and when a worker starts. A version new to the catalog is recorded, with
-- GENERATOR_VERSION_PUBLISHED; a version recorded already must come with the same schema, or
-- the whole publication is refused (GENERATOR_VERSION_CONFLICT: a changed schema is a new
-- version). The version published becomes the generator's current one; an earlier version
-- that becomes current again (a rollback) is audited as GENERATOR_VERSION_CURRENT. Publishing
-- what is current already writes nothing. Workers that start together publish one after the
-- other (an advisory lock). SECURITY DEFINER: with the pause and the resume, the catalog's
-- only writer. Returns {published: [{name, version}]}, the versions new to the catalog.
CREATE FUNCTION regent_publish_generators(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  e record;
  v_sha text;
  v_known generator_versions%ROWTYPE;
  v_current text;
  v_published jsonb := '[]';
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('regent_publish_generators'));
  FOR e IN
    SELECT x->>'name' AS name, x->>'version' AS version, x->'inputSchema' AS schema
    FROM jsonb_array_elements(p->'generators') AS x
  LOOP
    v_sha := encode(sha256(convert_to(e.schema::text, 'UTF8')), 'hex');
    SELECT * INTO v_known FROM generator_versions WHERE generator = e.name AND version = e.version;
    IF NOT FOUND THEN
      INSERT INTO generator_versions (generator, version, input_schema, schema_sha256, published_by)
      VALUES (e.name, e.version, e.schema, v_sha, p->'ctx'->>'actor');
    ELSIF v_known.schema_sha256 <> v_sha THEN
      PERFORM regent_refuse_with('GENERATOR_VERSION_CONFLICT',
        jsonb_build_object('generator', e.name, 'version', e.version));
    END IF;
    SELECT current_version INTO v_current FROM generators WHERE name = e.name;
    IF v_current IS NULL THEN
      INSERT INTO generators (name, current_version) VALUES (e.name, e.version);
    ELSIF v_current <> e.version THEN
      UPDATE generators SET current_version = e.version WHERE name = e.name;
    END IF;
    IF v_known.generator IS NULL THEN
      v_published := v_published || jsonb_build_object('name', e.name, 'version', e.version);
      PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
        'type', 'GENERATOR_VERSION_PUBLISHED', 'subjectType', 'generator', 'subjectId', e.name,
        'data', jsonb_build_object('version', e.version, 'schemaSha256', v_sha, 'previousVersion', v_current))));
    ELSIF v_current IS DISTINCT FROM e.version THEN
      PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
        'type', 'GENERATOR_VERSION_CURRENT', 'subjectType', 'generator', 'subjectId', e.name,
        'data', jsonb_build_object('version', e.version, 'schemaSha256', v_sha, 'previousVersion', v_current))));
    END IF;
    v_known := NULL;
  END LOOP;
  RETURN jsonb_build_object('published', v_published);
END $$;

GRANT EXECUTE ON FUNCTION regent_publish_generators(jsonb) TO regent_app;
