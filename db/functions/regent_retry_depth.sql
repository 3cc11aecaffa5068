-- How many retries stand between a job and the original of its chain: 0 for an original.
CREATE FUNCTION regent_retry_depth(p_job_id text) RETURNS integer LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  WITH RECURSIVE up(id, retry_of) AS (
    SELECT id, retry_of_job_id FROM regeneration_jobs WHERE id = p_job_id
    UNION ALL
    SELECT j.id, j.retry_of_job_id FROM regeneration_jobs j JOIN up ON j.id = up.retry_of
  )
  SELECT (count(*) - 1)::integer FROM up
$$;

GRANT EXECUTE ON FUNCTION regent_retry_depth(text) TO regent_app;
