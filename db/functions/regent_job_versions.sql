-- The generator versions that matter to a decision about a job: the one it ran under (its
-- output's, or the one its failure recorded; null when nothing says, as for a lapsed lease)
-- and the one a new job of its generator runs under now (the catalog's current; null for a
-- generator the catalog does not hold). {source, current}.
CREATE FUNCTION regent_job_versions(p_job_id text) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT jsonb_build_object(
    'source', coalesce((SELECT o.generator_version FROM regeneration_outputs o WHERE o.job_id = j.id),
                       j.error->>'generatorVersion'),
    'current', (SELECT g.current_version FROM generators g WHERE g.name = j.generator))
  FROM regeneration_jobs j WHERE j.id = p_job_id
$$;

GRANT EXECUTE ON FUNCTION regent_job_versions(text) TO regent_app;
