-- Rejects every PENDING intent of a batch with the admin's reason ({ctx, batchId,
-- reasonText}), each with its RETRY_INTENT_REJECTED event, then RETRY_BATCH_REJECTED.
-- Refused: BATCH_NOT_FOUND. Returns {batch, rejected, counts}.
CREATE FUNCTION regent_reject_retry_batch(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_actor text;
  v_text constant text := p->>'reasonText';
  b retry_batches%ROWTYPE;
  v_rejected integer;
BEGIN
  p := regent_authorized(p);
  v_actor := p->'ctx'->>'actor';
  b := regent_lock_retry_batch(p->>'batchId');
  WITH rejected AS (
    UPDATE retry_intents
    SET status = 'REJECTED', rejected_by = v_actor, rejected_at = now(), rejection_text = v_text
    WHERE batch_id = b.id AND status = 'PENDING'
    RETURNING id, source_job_id
  ), audit AS (
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
    SELECT 'RETRY_INTENT_REJECTED', v_actor, 'retry_intent', id,
           jsonb_build_object('sourceJobId', source_job_id, 'reasonText', v_text, 'batchId', b.id),
           p->'ctx'->>'requestId', p->'ctx'->>'ip', p->'ctx'->>'userAgent'
    FROM rejected
  )
  SELECT count(*) INTO v_rejected FROM rejected;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_BATCH_REJECTED', 'subjectType', 'retry_batch', 'subjectId', b.id,
    'data', jsonb_build_object('reasonText', v_text, 'rejected', v_rejected))));
  RETURN jsonb_build_object('batch', to_jsonb(b), 'rejected', v_rejected,
                            'counts', regent_batch_counts(b.id));
END $$;

GRANT EXECUTE ON FUNCTION regent_reject_retry_batch(jsonb) TO regent_app;
