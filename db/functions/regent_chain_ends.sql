-- Both ends of a job's chain (its retries and supersessions): {latest: {jobId, status}, the
-- newest job, whose output is the current one; root: {jobId, createdBy}, the original, whose
-- submitter may follow the chain}. A job has at most one successor, so the chain is a line.
CREATE FUNCTION regent_chain_ends(p_job_id text) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  WITH RECURSIVE up(id, retry_of, n) AS (
    SELECT id, retry_of_job_id, 0 FROM regeneration_jobs WHERE id = p_job_id
    UNION ALL
    SELECT j.id, j.retry_of_job_id, up.n + 1 FROM regeneration_jobs j JOIN up ON j.id = up.retry_of
  ), down(id, status, n) AS (
    SELECT id, status, 0 FROM regeneration_jobs WHERE id = p_job_id
    UNION ALL
    SELECT j.id, j.status, down.n + 1 FROM regeneration_jobs j JOIN down ON j.retry_of_job_id = down.id
  )
  SELECT jsonb_build_object(
    'latest', (SELECT jsonb_build_object('jobId', d.id, 'status', d.status) FROM down d ORDER BY d.n DESC LIMIT 1),
    'root', (SELECT jsonb_build_object('jobId', r.id, 'createdBy', r.created_by)
             FROM up u JOIN regeneration_jobs r ON r.id = u.id ORDER BY u.n DESC LIMIT 1))
$$;

GRANT EXECUTE ON FUNCTION regent_chain_ends(text) TO regent_app;
