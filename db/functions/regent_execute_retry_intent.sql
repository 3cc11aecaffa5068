-- Executes a PENDING, unexpired intent ({ctx, intentId}): consumes it and creates the retry
-- job, linked to the failed one, with RETRY_INTENT_CONSUMED, RETRY_INTENT_EXECUTED,
-- JOB_CREATED and REGEN_JOB_RETRIED (regent_consume_intents, as a batch's execute does).
-- Lock order: the failed job, then the intent. Of
-- concurrent executes one consumes the intent; the others wait on the job's lock and then find
-- it CONSUMED. Refused: INTENT_NOT_FOUND, FOUR_EYES_REQUIRED (when the policy asks for it),
-- INTENT_NOT_PENDING (naming the job), INTENT_EXPIRED, JOB_ALREADY_RETRIED. Returns {intent, job}.
CREATE FUNCTION regent_execute_retry_intent(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_intent_id constant text := p->>'intentId';
  v_actor constant text := p->'ctx'->>'actor';
  pending retry_intents%ROWTYPE;
  src regeneration_jobs%ROWTYPE;
  v_job_id text;
  v_retry_id text;
BEGIN
  SELECT * INTO pending FROM retry_intents WHERE id = v_intent_id;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('INTENT_NOT_FOUND', jsonb_build_object('intentId', v_intent_id));
  END IF;
  IF pending.status = 'PENDING' AND regent_excluded_executor(pending.approved_by) = v_actor THEN
    PERFORM regent_refuse_with('FOUR_EYES_REQUIRED',
      jsonb_build_object('intentId', pending.id, 'approvedBy', pending.approved_by));
  END IF;
  SELECT * INTO src FROM regeneration_jobs WHERE id = pending.source_job_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('JOB_NOT_FOUND', jsonb_build_object('jobId', pending.source_job_id));
  END IF;
  SELECT c.job_id INTO v_job_id FROM regent_consume_intents(ARRAY[v_intent_id], p->'ctx') c;
  IF NOT FOUND THEN
    PERFORM regent_refuse_not_pending(v_intent_id);
  END IF;
  IF v_job_id IS NULL THEN
    SELECT id INTO v_retry_id FROM regeneration_jobs WHERE retry_of_job_id = src.id;
    PERFORM regent_refuse_with('JOB_ALREADY_RETRIED',
      jsonb_build_object('jobId', src.id, 'retryJobId', v_retry_id, 'kind', pending.kind));
  END IF;
  PERFORM pg_notify('regent_job_created', '');
  RETURN jsonb_build_object(
    'intent', (SELECT to_jsonb(i) FROM retry_intents i WHERE i.id = v_intent_id),
    'job', (SELECT to_jsonb(j) FROM regeneration_jobs j WHERE j.id = v_job_id));
END $$;

GRANT EXECUTE ON FUNCTION regent_execute_retry_intent(jsonb) TO regent_app;
