-- Claims up to p.batchSize PENDING jobs, oldest first, for one worker invocation ({workerId,
-- actor, batchSize, leaseSeconds}): each moves to RUNNING with a lease of p.leaseSeconds and
-- its JOB_CLAIMED event, and is returned with its retry depth. The jobs of a paused generator
-- are skipped: they wait, PENDING, until it is resumed (and the statement-level check of
-- regent_jobs_moved refuses any other way of claiming one).
--
-- `FOR UPDATE SKIP LOCKED` lets concurrent workers take disjoint batches without waiting on
-- each other; a row another worker claimed after our snapshot is re-checked under its lock and
-- dropped because it is no longer PENDING, so a job is claimed once. The paused generators are
-- read once (an InitPlan), not per job. `id = ANY (ARRAY(…))` makes the UPDATE find its rows by
-- primary key: a join on the CTE let the planner hash the whole table. The UPDATE repeats no
-- `status = 'PENDING'`: `picked` holds those rows locked, and the guard trigger refuses any
-- other move; repeating it let the planner, before a freshly filled table had statistics, probe
-- `id` through the partial PENDING index instead of the primary key (190 ms a batch of 500
-- instead of 12). Only a retry walks its chain for its depth (regent_retry_depth).
CREATE FUNCTION regent_claim_jobs(p jsonb)
RETURNS TABLE (id text, generator text, input jsonb, retry_of_job_id text, retry_intent_id text, retry_depth integer)
LANGUAGE sql VOLATILE SET search_path = pg_catalog, public, pg_temp AS $$
  WITH picked AS (
    SELECT j.id FROM regeneration_jobs j
    WHERE j.status = 'PENDING'
      AND j.generator <> ALL (ARRAY(SELECT g.name FROM generators g WHERE g.paused_at IS NOT NULL))
    ORDER BY j.created_at, j.id
    LIMIT (p->>'batchSize')::integer
    FOR UPDATE OF j SKIP LOCKED
  ), claimed AS (
    UPDATE regeneration_jobs AS j
    SET status = 'RUNNING', claimed_by = p->>'workerId', claimed_at = now(),
        lease_expires_at = now() + make_interval(secs => (p->>'leaseSeconds')::float8)
    WHERE j.id = ANY (ARRAY(SELECT picked.id FROM picked))
    RETURNING j.id, j.generator, j.input, j.retry_of_job_id, j.retry_intent_id, j.lease_expires_at, j.created_at
  ), audited AS (
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
    SELECT 'JOB_CLAIMED', p->>'actor', 'job', c.id,
           jsonb_build_object('claimedBy', p->>'workerId', 'leaseExpiresAt', c.lease_expires_at)
    FROM claimed c
  )
  SELECT c.id, c.generator, c.input, c.retry_of_job_id, c.retry_intent_id,
         CASE WHEN c.retry_of_job_id IS NULL THEN 0 ELSE regent_retry_depth(c.id) END
  FROM claimed c
  ORDER BY c.created_at, c.id
$$;

GRANT EXECUTE ON FUNCTION regent_claim_jobs(jsonb) TO regent_app;
