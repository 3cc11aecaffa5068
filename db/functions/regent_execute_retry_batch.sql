-- Executes every PENDING, unexpired intent of a batch ({ctx, batchId}) as a single intent is
-- executed, 500 at a time: the intents are consumed (with their events) in one statement and
-- their jobs created (with theirs) in the next, whose insert trigger must see the intents
-- CONSUMED. Set-based rather than a call of regent_execute_retry_intent per intent: a batch of
-- 1,000 is two statements per 500, not 6,000. Then RETRY_BATCH_EXECUTED with what was created
-- and skipped. Refused: BATCH_NOT_FOUND, FOUR_EYES_REQUIRED (when the policy asks for it).
-- Returns {batch, created, skipped, counts}.
CREATE FUNCTION regent_execute_retry_batch(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_actor text;
  b retry_batches%ROWTYPE;
  v_consumed text[];
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
    WITH picked AS (
      SELECT id FROM retry_intents
      WHERE batch_id = b.id AND status = 'PENDING' AND expires_at > statement_timestamp()
      ORDER BY id
      LIMIT 500
      FOR UPDATE
    ), consumed AS (
      UPDATE retry_intents i SET status = 'CONSUMED', consumed_by = v_actor, consumed_at = now()
      FROM picked WHERE i.id = picked.id
      RETURNING i.id, i.source_job_id
    ), audit AS (
      INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
      SELECT 'RETRY_INTENT_CONSUMED', v_actor, 'retry_intent', id,
             jsonb_build_object('sourceJobId', source_job_id, 'batchId', b.id),
             p->'ctx'->>'requestId', p->'ctx'->>'ip', p->'ctx'->>'userAgent'
      FROM consumed
    )
    SELECT coalesce(array_agg(id), '{}') INTO v_consumed FROM consumed;
    EXIT WHEN cardinality(v_consumed) = 0;
    WITH jobs AS (
      INSERT INTO regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id, created_by)
      SELECT regent_new_id(), src.generator, src.input, src.id, i.id, v_actor
      FROM unnest(v_consumed) WITH ORDINALITY AS c(intent_id, n)
      JOIN retry_intents i ON i.id = c.intent_id
      JOIN regeneration_jobs src ON src.id = i.source_job_id
      ORDER BY c.n
      RETURNING id, generator, retry_of_job_id, retry_intent_id
    )
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
    SELECT e.type, v_actor, e.subject_type, e.subject_id, e.data,
           p->'ctx'->>'requestId', p->'ctx'->>'ip', p->'ctx'->>'userAgent'
    FROM jobs
    JOIN retry_intents i ON i.id = jobs.retry_intent_id
    CROSS JOIN LATERAL (VALUES
      ('RETRY_INTENT_EXECUTED', 'retry_intent', i.id,
       jsonb_build_object('sourceJobId', jobs.retry_of_job_id, 'jobId', jobs.id, 'batchId', b.id)),
      ('JOB_CREATED', 'job', jobs.id,
       jsonb_build_object('generator', jobs.generator, 'retryOfJobId', jobs.retry_of_job_id,
                          'retryIntentId', i.id)),
      ('REGEN_JOB_RETRIED', 'job', jobs.retry_of_job_id,
       jsonb_build_object('retryJobId', jobs.id, 'retryIntentId', i.id,
                          'reasonCode', i.reason_code, 'approvedBy', i.approved_by))
    ) AS e(type, subject_type, subject_id, data);
    v_created := v_created + cardinality(v_consumed);
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
