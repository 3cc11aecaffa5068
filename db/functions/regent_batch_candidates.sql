-- The FAILED, not yet retried jobs a batch filter matches ({generator?, errorCode?,
-- failedAfter?, failedBefore?}, instants on finished_at), each with its retry depth, whether an
-- intent already waits for it, and whether a batch takes it: no pending intent, and within the
-- policy's retry budget. Preview and approval both read the set here.
CREATE FUNCTION regent_batch_candidates(p_filter jsonb)
RETURNS TABLE (id text, depth integer, pending boolean, eligible boolean) LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT c.id, c.depth, c.pending, NOT c.pending AND c.depth < (SELECT retry_budget FROM regent_policy WHERE singleton)
  FROM (
    SELECT j.id,
           -- Most failed jobs are originals; only a retry needs its chain walked (50,000
           -- candidates: 1.3 s with the walk for every one, 0.3 s like this).
           CASE WHEN j.retry_of_job_id IS NULL THEN 0 ELSE regent_retry_depth(j.id) END AS depth,
           EXISTS (SELECT 1 FROM retry_intents i WHERE i.source_job_id = j.id AND i.status = 'PENDING') AS pending
    FROM regeneration_jobs j
    WHERE j.status = 'FAILED'
      AND (p_filter->>'generator' IS NULL OR j.generator = p_filter->>'generator')
      AND (p_filter->>'errorCode' IS NULL OR j.error->>'code' = p_filter->>'errorCode')
      AND (p_filter->>'failedAfter' IS NULL OR j.finished_at >= (p_filter->>'failedAfter')::timestamptz)
      AND (p_filter->>'failedBefore' IS NULL OR j.finished_at < (p_filter->>'failedBefore')::timestamptz)
      AND NOT EXISTS (SELECT 1 FROM regeneration_jobs r WHERE r.retry_of_job_id = j.id)
  ) c
  ORDER BY c.id
$$;

GRANT EXECUTE ON FUNCTION regent_batch_candidates(jsonb) TO regent_app;
