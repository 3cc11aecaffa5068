-- Why a retry intent could not be consumed or rejected: INTENT_NOT_FOUND, INTENT_EXPIRED (a
-- PENDING one past its time, by the database's clock), or INTENT_NOT_PENDING naming the job a
-- consumed one created.
CREATE FUNCTION regent_refuse_not_pending(p_intent_id text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  i retry_intents%ROWTYPE;
  v_job_id text;
BEGIN
  SELECT * INTO i FROM retry_intents WHERE id = p_intent_id;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('INTENT_NOT_FOUND', jsonb_build_object('intentId', p_intent_id));
  END IF;
  IF i.status = 'PENDING' AND i.expires_at <= statement_timestamp() THEN
    PERFORM regent_refuse_with('INTENT_EXPIRED',
      jsonb_build_object('intentId', i.id, 'expiresAt', regent_iso(i.expires_at)));
  END IF;
  IF i.status = 'CONSUMED' THEN
    SELECT id INTO v_job_id FROM regeneration_jobs WHERE retry_intent_id = i.id;
  END IF;
  PERFORM regent_refuse_with('INTENT_NOT_PENDING',
    jsonb_build_object('intentId', i.id, 'status', i.status, 'jobId', v_job_id));
END $$;

GRANT EXECUTE ON FUNCTION regent_refuse_not_pending(text) TO regent_app;
