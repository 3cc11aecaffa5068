-- A job as the API shows it: what the units of work answer, and what an idempotency key
-- stores as its response.
CREATE FUNCTION regent_job_json(j regeneration_jobs) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT jsonb_build_object(
    'id', j.id, 'generator', j.generator, 'input', j.input, 'status', j.status,
    'retryOfJobId', j.retry_of_job_id, 'retryIntentId', j.retry_intent_id,
    'createdBy', j.created_by, 'createdAt', regent_iso(j.created_at),
    'claimedBy', j.claimed_by, 'claimedAt', regent_iso(j.claimed_at),
    'leaseExpiresAt', regent_iso(j.lease_expires_at), 'finishedAt', regent_iso(j.finished_at),
    'error', j.error)
$$;

GRANT EXECUTE ON FUNCTION regent_job_json(regeneration_jobs) TO regent_app;
