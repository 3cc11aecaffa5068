-- Executes a PENDING, unexpired intent ({ctx, intentId}): consumes it and creates the retry
-- job, linked to the failed one, with RETRY_INTENT_CONSUMED, RETRY_INTENT_EXECUTED,
-- JOB_CREATED and REGEN_JOB_RETRIED. Lock order: the failed job, then the intent. Of
-- concurrent executes one consumes the intent; the others wait on the job's lock and then find
-- it CONSUMED. Refused: INTENT_NOT_FOUND, FOUR_EYES_REQUIRED (when the policy asks for it),
-- INTENT_NOT_PENDING (naming the job), INTENT_EXPIRED, JOB_ALREADY_RETRIED. Returns {intent, job}.
CREATE FUNCTION regent_execute_retry_intent(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_intent_id constant text := p->>'intentId';
  v_actor constant text := p->'ctx'->>'actor';
  pending retry_intents%ROWTYPE;
  i retry_intents%ROWTYPE;
  src regeneration_jobs%ROWTYPE;
  j regeneration_jobs%ROWTYPE;
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
  UPDATE retry_intents SET status = 'CONSUMED', consumed_by = v_actor, consumed_at = now()
  WHERE id = v_intent_id AND status = 'PENDING' AND expires_at > statement_timestamp()
  RETURNING * INTO i;
  IF NOT FOUND THEN
    PERFORM regent_refuse_not_pending(v_intent_id);
  END IF;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_INTENT_CONSUMED', 'subjectType', 'retry_intent', 'subjectId', i.id,
    'data', jsonb_build_object('sourceJobId', i.source_job_id))));
  -- The unique retry_of_job_id decides if the job was retried meanwhile.
  INSERT INTO regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id, created_by)
  VALUES (regent_new_id(), src.generator, src.input, src.id, i.id, v_actor)
  ON CONFLICT (retry_of_job_id) DO NOTHING
  RETURNING * INTO j;
  IF NOT FOUND THEN
    SELECT id INTO v_retry_id FROM regeneration_jobs WHERE retry_of_job_id = src.id;
    PERFORM regent_refuse_with('JOB_ALREADY_RETRIED',
      jsonb_build_object('jobId', src.id, 'retryJobId', v_retry_id));
  END IF;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(
    jsonb_build_object('type', 'RETRY_INTENT_EXECUTED', 'subjectType', 'retry_intent', 'subjectId', i.id,
      'data', jsonb_build_object('sourceJobId', src.id, 'jobId', j.id)),
    jsonb_build_object('type', 'JOB_CREATED', 'subjectType', 'job', 'subjectId', j.id,
      'data', jsonb_build_object('generator', j.generator, 'retryOfJobId', src.id, 'retryIntentId', i.id)),
    jsonb_build_object('type', 'REGEN_JOB_RETRIED', 'subjectType', 'job', 'subjectId', src.id,
      'data', jsonb_build_object('retryJobId', j.id, 'retryIntentId', i.id,
                                 'reasonCode', i.reason_code, 'approvedBy', i.approved_by))));
  PERFORM pg_notify('regent_job_created', '');
  RETURN jsonb_build_object('intent', to_jsonb(i), 'job', to_jsonb(j));
END $$;

GRANT EXECUTE ON FUNCTION regent_execute_retry_intent(jsonb) TO regent_app;
