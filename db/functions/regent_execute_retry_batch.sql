-- Executes every PENDING, unexpired intent of a batch ({ctx, batchId}) as a single intent is
-- executed (regent_consume_intents), 500 at a time: two statements per 500 intents, not six
-- per intent. Then RETRY_BATCH_EXECUTED with what was created and skipped. Refused:
-- BATCH_NOT_FOUND, FOUR_EYES_REQUIRED (when the policy asks for it). Returns {batch, created,
-- skipped, counts}.
CREATE FUNCTION regent_execute_retry_batch(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_actor text;
  b retry_batches%ROWTYPE;
  v_ids text[];
  v_made integer;
  v_created integer := 0;
  v_counts jsonb;
  v_expired integer;
  v_skipped jsonb;
BEGIN
  p := regent_authorized(p);
  v_actor := p->'ctx'->>'actor';
  b := regent_lock_retry_batch(p->>'batchId');
  IF regent_excluded_executor(b.approved_by) = v_actor THEN
    PERFORM regent_refuse_with('FOUR_EYES_REQUIRED',
      jsonb_build_object('batchId', b.id, 'approvedBy', b.approved_by));
  END IF;
  LOOP
    SELECT coalesce(array_agg(x.id), '{}') INTO v_ids FROM (
      SELECT id FROM retry_intents
      WHERE batch_id = b.id AND status = 'PENDING' AND expires_at > statement_timestamp()
      ORDER BY id
      LIMIT 500) x;
    EXIT WHEN cardinality(v_ids) = 0;
    SELECT count(c.job_id) INTO v_made FROM regent_consume_intents(v_ids, p->'ctx') c;
    v_created := v_created + v_made;
  END LOOP;
  IF v_created > 0 THEN
    PERFORM pg_notify('regent_job_created', '');
  END IF;
  v_counts := regent_batch_counts(b.id);
  SELECT count(*) INTO v_expired FROM retry_intents
  WHERE batch_id = b.id AND status = 'PENDING' AND expires_at <= statement_timestamp();
  v_skipped := jsonb_build_object(
    'consumed', (v_counts->>'consumed')::integer - v_created,
    'rejected', (v_counts->>'rejected')::integer,
    'expired', v_expired);
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_BATCH_EXECUTED', 'subjectType', 'retry_batch', 'subjectId', b.id,
    'data', jsonb_build_object('created', v_created, 'skipped', v_skipped))));
  RETURN jsonb_build_object('batch', to_jsonb(b), 'created', v_created,
                            'skipped', v_skipped, 'counts', v_counts);
END $$;

GRANT EXECUTE ON FUNCTION regent_execute_retry_batch(jsonb) TO regent_app;
