-- What has been decided about a failed job, from its intents alone (what the triggers on
-- retry_intents keep in open_failures.decision as intents are recorded and decided): `pending`
-- while one waits, `rejected` when a person rejected its newest, `open` otherwise (none yet,
-- or the newest expired and the worker rejected it as `system`). A job's intents follow one
-- another, each decided before the next is recorded, so its newest is the one recorded last.
CREATE FUNCTION regent_open_failure_decision(p_job_id text) RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT coalesce((
    SELECT CASE WHEN i.status = 'PENDING' THEN 'pending'
                WHEN i.status = 'REJECTED' AND i.rejected_by <> 'system' THEN 'rejected'
                ELSE 'open' END
    FROM retry_intents i WHERE i.source_job_id = p_job_id
    -- A PENDING intent is the newest even beside one decided in the same transaction.
    ORDER BY i.status = 'PENDING' DESC, i.created_at DESC, i.id DESC
    LIMIT 1), 'open')
$$;

GRANT EXECUTE ON FUNCTION regent_open_failure_decision(text) TO regent_app;
