-- Records an admin's approval ({ctx, sourceJobId, kind?, input?, checkedAgainst?,
-- sourceOutputRef?, reasonCode, reasonText, overrideBudget?, expiresInHours?}) to retry a
-- FAILED job (kind RETRY, the default) or to supersede a COMPLETED one (SUPERSEDE), with its
-- RETRY_INTENT_CREATED event. `input` is a corrected input for the new job: only with a reason
-- that says something was wrong (BAD_INPUT, IMPROVED_PROMPT, OTHER), and checked against the
-- current schema of the source's generator (regent_checked_input). The budget and the
-- lifetime's bounds are the policy's. The job's row is locked first (NO KEY UPDATE), as
-- executing an intent locks it, so that for one job the two run one after the other; then
-- regent_retry_refusal says whether it may be recorded. Refused: VALIDATION_FAILED (a lifetime
-- outside the policy, an override with another reason code than OTHER, an input or a
-- supersession with a reason that changes nothing), JOB_NOT_FOUND, JOB_NOT_FAILED,
-- JOB_NOT_COMPLETED, JOB_ALREADY_RETRIED, INTENT_ALREADY_PENDING, RETRY_BUDGET_EXHAUSTED (unless
-- overridden), UNKNOWN_GENERATOR, GENERATOR_SCHEMA_CHANGED. Returns {intent}.
CREATE FUNCTION regent_create_retry_intent(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  policy constant regent_policy := regent_policy();
  v_job_id constant text := p->>'sourceJobId';
  v_hours constant integer := regent_intent_hours(p);
  v_kind constant retry_intent_kind := coalesce(p->>'kind', 'RETRY')::retry_intent_kind;
  v_input constant jsonb := nullif(p->'input', 'null'::jsonb);
  v_changes constant boolean := p->>'reasonCode' IN ('BAD_INPUT', 'IMPROVED_PROMPT', 'OTHER');
  v_versions jsonb;
  v_refusal jsonb;
  v_depth integer;
  v_over boolean;
  i retry_intents%ROWTYPE;
BEGIN
  -- Going past the budget is an exception, explained in the reason text (a CHECK holds it too).
  IF coalesce((p->>'overrideBudget')::boolean, false) AND p->>'reasonCode' <> 'OTHER' THEN
    PERFORM regent_refuse_with('VALIDATION_FAILED', jsonb_build_object('field', 'overrideBudget'));
  END IF;
  -- A reason that blames nothing in the job (a transient failure, the infrastructure) changes
  -- nothing: it neither corrects the input nor supersedes a result (CHECKs hold both too).
  IF v_input IS NOT NULL AND NOT v_changes THEN
    PERFORM regent_refuse_with('VALIDATION_FAILED', jsonb_build_object('field', 'input', 'reasonCode', p->>'reasonCode'));
  END IF;
  IF v_kind = 'SUPERSEDE' AND NOT v_changes THEN
    PERFORM regent_refuse_with('VALIDATION_FAILED', jsonb_build_object('field', 'reasonCode', 'kind', v_kind));
  END IF;
  PERFORM 1 FROM regeneration_jobs j WHERE j.id = v_job_id FOR NO KEY UPDATE;
  v_refusal := regent_retry_refusal(v_job_id, v_kind);
  v_over := v_refusal->>'code' = 'RETRY_BUDGET_EXHAUSTED';
  IF v_refusal IS NOT NULL AND NOT (v_over AND coalesce((p->>'overrideBudget')::boolean, false)) THEN
    PERFORM regent_refuse_with(v_refusal->>'code', v_refusal->'details');
  END IF;
  v_over := coalesce(v_over, false);
  IF v_input IS NOT NULL THEN
    PERFORM regent_checked_input((SELECT generator FROM regeneration_jobs WHERE id = v_job_id), p->'checkedAgainst');
  END IF;
  v_depth := regent_retry_depth(v_job_id);
  v_versions := regent_job_versions(v_job_id);
  -- The partial unique index decides between two PENDING intents for one job.
  INSERT INTO retry_intents (id, source_job_id, kind, input, source_output_ref, reason_code, reason_text,
                             approved_by, budget_override, expires_at)
  VALUES (regent_new_id(), v_job_id, v_kind, v_input, p->>'sourceOutputRef', (p->>'reasonCode')::retry_reason_code,
          p->>'reasonText', p->'ctx'->>'actor', v_over, now() + make_interval(hours => v_hours))
  ON CONFLICT (source_job_id) WHERE status = 'PENDING' DO NOTHING
  RETURNING * INTO i;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('INTENT_ALREADY_PENDING', jsonb_build_object(
      'jobId', v_job_id,
      'intentId', (SELECT id FROM retry_intents WHERE source_job_id = v_job_id AND status = 'PENDING')));
  END IF;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_INTENT_CREATED', 'subjectType', 'retry_intent', 'subjectId', i.id,
    'data', jsonb_build_object(
      'sourceJobId', v_job_id, 'kind', i.kind, 'reasonCode', i.reason_code, 'reasonText', i.reason_text,
      'retryDepth', v_depth, 'budget', policy.retry_budget, 'expiresAt', regent_iso(i.expires_at),
      'sourceVersion', v_versions->'source', 'currentVersion', v_versions->'current')
      || CASE WHEN v_over THEN jsonb_build_object('budgetOverride', true) ELSE '{}'::jsonb END
      -- What changed: the digest of the corrected input (the input itself is on the intent).
      || CASE WHEN v_input IS NOT NULL THEN jsonb_build_object(
           'inputSha256', encode(sha256(convert_to(v_input::text, 'UTF8')), 'hex')) ELSE '{}'::jsonb END)));
  RETURN jsonb_build_object('intent', to_jsonb(i));
END $$;

GRANT EXECUTE ON FUNCTION regent_create_retry_intent(jsonb) TO regent_app;
