-- Consumes the PENDING, unexpired intents among p_intent_ids for the caller p_ctx and creates
-- each one's new job, linked to its source (the intent's corrected input, else the source's),
-- with RETRY_INTENT_CONSUMED, RETRY_INTENT_EXECUTED, JOB_CREATED, and on the source
-- REGEN_JOB_RETRIED or, for a supersession, REGEN_JOB_SUPERSEDED (a batch's intents name their
-- batch in the first two). Set-based: the intents are consumed (with their events) in one statement
-- and their jobs created (with theirs) in the next, whose insert trigger must see the intents
-- CONSUMED; a single intent and 500 of a batch cost the same two statements. Returns each
-- consumed intent with its job; a job is null when its failed job was retried meanwhile (the
-- unique retry_of_job_id decides), which the caller must refuse. The executes of one intent and
-- of a batch (regent_execute_retry_intent, regent_execute_retry_batch) both run here.
CREATE FUNCTION regent_consume_intents(p_intent_ids text[], p_ctx jsonb)
RETURNS TABLE (intent_id text, job_id text) LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_actor constant text := p_ctx->>'actor';
  v_consumed text[];
BEGIN
  WITH consumed AS (
    UPDATE retry_intents i SET status = 'CONSUMED', consumed_by = v_actor, consumed_at = now()
    WHERE i.id = ANY (p_intent_ids) AND i.status = 'PENDING' AND i.expires_at > statement_timestamp()
    RETURNING i.id, i.source_job_id, i.batch_id
  ), audit AS (
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
    SELECT 'RETRY_INTENT_CONSUMED', v_actor, 'retry_intent', id,
           jsonb_strip_nulls(jsonb_build_object('sourceJobId', source_job_id, 'batchId', batch_id)),
           p_ctx->>'requestId', p_ctx->>'ip', p_ctx->>'userAgent'
    FROM consumed
  )
  SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_consumed FROM consumed;
  IF cardinality(v_consumed) = 0 THEN
    RETURN;
  END IF;
  RETURN QUERY
  WITH jobs AS (
    INSERT INTO regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id, created_by)
    SELECT regent_new_id(), src.generator, coalesce(i.input, src.input), src.id, i.id, v_actor
    FROM unnest(v_consumed) WITH ORDINALITY AS c(intent_id, n)
    JOIN retry_intents i ON i.id = c.intent_id
    JOIN regeneration_jobs src ON src.id = i.source_job_id
    ORDER BY c.n
    ON CONFLICT (retry_of_job_id) DO NOTHING
    RETURNING id, generator, retry_of_job_id, retry_intent_id
  ), audit AS (
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
    SELECT e.type, v_actor, e.subject_type, e.subject_id, e.data,
           p_ctx->>'requestId', p_ctx->>'ip', p_ctx->>'userAgent'
    FROM jobs
    JOIN retry_intents i ON i.id = jobs.retry_intent_id
    CROSS JOIN LATERAL (VALUES
      ('RETRY_INTENT_EXECUTED', 'retry_intent', i.id,
       jsonb_strip_nulls(jsonb_build_object('sourceJobId', jobs.retry_of_job_id, 'jobId', jobs.id,
                                            'batchId', i.batch_id, 'kind', i.kind))),
      ('JOB_CREATED', 'job', jobs.id,
       jsonb_build_object('generator', jobs.generator, 'retryOfJobId', jobs.retry_of_job_id,
                          'retryIntentId', i.id, 'correctedInput', i.input IS NOT NULL)),
      (CASE i.kind WHEN 'SUPERSEDE' THEN 'REGEN_JOB_SUPERSEDED' ELSE 'REGEN_JOB_RETRIED' END, 'job', jobs.retry_of_job_id,
       jsonb_build_object('retryJobId', jobs.id, 'retryIntentId', i.id,
                          'reasonCode', i.reason_code, 'approvedBy', i.approved_by))
    ) AS e(type, subject_type, subject_id, data)
  )
  SELECT c.intent_id, jobs.id FROM unnest(v_consumed) AS c(intent_id)
  LEFT JOIN jobs ON jobs.retry_intent_id = c.intent_id;
END $$;

GRANT EXECUTE ON FUNCTION regent_consume_intents(text[], jsonb) TO regent_app;
