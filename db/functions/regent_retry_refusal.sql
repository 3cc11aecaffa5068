-- Why an intent of p_kind cannot be recorded for a job now, as the refusal a caller would meet
-- ({code, details}), or null when it can: JOB_NOT_FOUND, JOB_NOT_FAILED (a RETRY is for a
-- FAILED job), JOB_NOT_COMPLETED (a SUPERSEDE for a COMPLETED one), JOB_ALREADY_RETRIED (it has
-- its successor already: a chain stays a chain), INTENT_ALREADY_PENDING,
-- RETRY_BUDGET_EXHAUSTED (the policy's budget counts every successor; an override may pass it).
-- regent_create_retry_intent asks it under the job's lock; the job's page asks it to say why
-- its form is closed, so the two never disagree.
CREATE FUNCTION regent_retry_refusal(p_job_id text, p_kind retry_intent_kind DEFAULT 'RETRY')
RETURNS jsonb LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_status job_status;
  v_depth integer;
  v_budget integer;
  v_other text;
BEGIN
  SELECT j.status INTO v_status FROM regeneration_jobs j WHERE j.id = p_job_id;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('code', 'JOB_NOT_FOUND', 'details', jsonb_build_object('jobId', p_job_id));
  END IF;
  IF p_kind = 'RETRY' AND v_status <> 'FAILED' THEN
    RETURN jsonb_build_object('code', 'JOB_NOT_FAILED',
      'details', jsonb_build_object('jobId', p_job_id, 'status', v_status));
  END IF;
  IF p_kind = 'SUPERSEDE' AND v_status <> 'COMPLETED' THEN
    RETURN jsonb_build_object('code', 'JOB_NOT_COMPLETED',
      'details', jsonb_build_object('jobId', p_job_id, 'status', v_status));
  END IF;
  SELECT id INTO v_other FROM regeneration_jobs WHERE retry_of_job_id = p_job_id;
  IF v_other IS NOT NULL THEN
    RETURN jsonb_build_object('code', 'JOB_ALREADY_RETRIED',
      'details', jsonb_build_object('jobId', p_job_id, 'retryJobId', v_other, 'kind', p_kind));
  END IF;
  SELECT id INTO v_other FROM retry_intents WHERE source_job_id = p_job_id AND status = 'PENDING';
  IF v_other IS NOT NULL THEN
    RETURN jsonb_build_object('code', 'INTENT_ALREADY_PENDING',
      'details', jsonb_build_object('jobId', p_job_id, 'intentId', v_other));
  END IF;
  v_depth := regent_retry_depth(p_job_id);
  v_budget := (regent_policy()).retry_budget;
  IF v_depth >= v_budget THEN
    RETURN jsonb_build_object('code', 'RETRY_BUDGET_EXHAUSTED',
      'details', jsonb_build_object('jobId', p_job_id, 'depth', v_depth, 'budget', v_budget));
  END IF;
  RETURN NULL;
END $$;

GRANT EXECUTE ON FUNCTION regent_retry_refusal(text, retry_intent_kind) TO regent_app;
