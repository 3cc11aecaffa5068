-- Declines a PENDING intent with the admin's reason ({ctx, intentId, reasonText}), and
-- RETRY_INTENT_REJECTED. Refused: INTENT_NOT_FOUND, INTENT_NOT_PENDING. Returns {intent}.
CREATE FUNCTION regent_reject_retry_intent(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  i retry_intents%ROWTYPE;
BEGIN
  p := regent_authorized(p);
  UPDATE retry_intents
  SET status = 'REJECTED', rejected_by = p->'ctx'->>'actor', rejected_at = now(), rejection_text = p->>'reasonText'
  WHERE id = p->>'intentId' AND status = 'PENDING'
  RETURNING * INTO i;
  IF NOT FOUND THEN
    PERFORM regent_refuse_not_pending(p->>'intentId');
  END IF;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_INTENT_REJECTED', 'subjectType', 'retry_intent', 'subjectId', i.id,
    'data', jsonb_build_object('sourceJobId', i.source_job_id, 'reasonText', i.rejection_text))));
  RETURN jsonb_build_object('intent', to_jsonb(i));
END $$;

GRANT EXECUTE ON FUNCTION regent_reject_retry_intent(jsonb) TO regent_app;
