-- Every write of the API and the admin page as one function: the whole unit of work (locks,
-- checks, rows, audit events, the idempotency key) runs inside the one autocommit statement
-- that calls it, so a request costs one round trip to PostgreSQL for its write instead of a
-- BEGIN, several statements and a COMMIT. Each statement inside a function still takes its own
-- snapshot (READ COMMITTED, VOLATILE), so the locks and re-reads behave as the separate
-- statements did: job before intent, a re-read after a lock that waited.
--
-- A refusal the caller can act on raises SQLSTATE RG003 with the error code as its message
-- (INTENT_NOT_PENDING, ...) and the error's details as JSON in its DETAIL; the application
-- turns it into the same DomainError, with the same sentence, as before. RG001 and RG002 stay
-- the triggers' (a forbidden change, a change without its audit event).
--
-- The functions run with the caller's rights (SECURITY INVOKER): regent_app may call them and
-- may do through them exactly what it may do with its own statements.

-- A timestamp as the API shows it: UTC, milliseconds (cut, as a JavaScript Date holds them), Z.
CREATE FUNCTION regent_iso(p_at timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
--> statement-breakpoint

-- Rows as the API shows them (functions/http/serialize.ts): what the functions return, and
-- what an idempotency key stores as its response.
CREATE FUNCTION regent_job_json(j regeneration_jobs) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', j.id, 'generator', j.generator, 'input', j.input, 'status', j.status,
    'retryOfJobId', j.retry_of_job_id, 'retryIntentId', j.retry_intent_id,
    'createdBy', j.created_by, 'createdAt', regent_iso(j.created_at),
    'claimedBy', j.claimed_by, 'claimedAt', regent_iso(j.claimed_at),
    'leaseExpiresAt', regent_iso(j.lease_expires_at), 'finishedAt', regent_iso(j.finished_at),
    'error', j.error)
$$;
--> statement-breakpoint
CREATE FUNCTION regent_intent_json(i retry_intents) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', i.id, 'sourceJobId', i.source_job_id, 'sourceOutputRef', i.source_output_ref,
    'reasonCode', i.reason_code, 'reasonText', i.reason_text, 'approvedBy', i.approved_by,
    'approvedAt', regent_iso(i.approved_at), 'status', i.status,
    'createdAt', regent_iso(i.created_at), 'consumedBy', i.consumed_by,
    'consumedAt', regent_iso(i.consumed_at), 'rejectedBy', i.rejected_by,
    'rejectedAt', regent_iso(i.rejected_at), 'rejectionText', i.rejection_text,
    'batchId', i.batch_id, 'budgetOverride', i.budget_override,
    'expiresAt', regent_iso(i.expires_at))
$$;
--> statement-breakpoint
CREATE FUNCTION regent_batch_json(b retry_batches) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', b.id, 'filter', b.filter, 'reasonCode', b.reason_code, 'reasonText', b.reason_text,
    'approvedBy', b.approved_by, 'approvedAt', regent_iso(b.approved_at),
    'jobCount', b.job_count, 'createdAt', regent_iso(b.created_at))
$$;
--> statement-breakpoint

-- An id for rows made in bulk (a batch's intents and jobs): a letter and 24 hex digits, 96 of
-- them bits of gen_random_uuid's strong randomness; the shape of the application's cuid2 ids.
CREATE FUNCTION regent_new_id() RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT chr(97 + floor(random() * 26)::integer)
         || left(u, 12) || right(u, 12)
  FROM (SELECT replace(gen_random_uuid()::text, '-', '') AS u) g
$$;
--> statement-breakpoint

-- Refuses the whole unit of work: nothing it wrote stays. Details that are null are left out,
-- as the application's JSON leaves out an undefined field.
CREATE FUNCTION regent_refuse_with(p_code text, p_details jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'RG003', MESSAGE = p_code,
    DETAIL = jsonb_strip_nulls(coalesce(p_details, '{}'::jsonb))::text;
END $$;
--> statement-breakpoint

-- Audit events of the caller `p_ctx` ({actor, requestId, ip, userAgent}), in the order given:
-- p_events is an array of {type, subjectType, subjectId, data}.
CREATE FUNCTION regent_audit(p_ctx jsonb, p_events jsonb) RETURNS void LANGUAGE sql VOLATILE AS $$
  INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
  SELECT e->>'type', p_ctx->>'actor', e->>'subjectType', e->>'subjectId', coalesce(e->'data', '{}'::jsonb),
         p_ctx->>'requestId', p_ctx->>'ip', p_ctx->>'userAgent'
  FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
  ORDER BY n
$$;
--> statement-breakpoint

-- Idempotency keys. p_key is null (no Idempotency-Key) or {principal, key, method, path,
-- requestSha256, status, ttlHours}. Returns the stored response of a live key for the same request (to
-- replay), refuses one for another request (IDEMPOTENCY_KEY_REUSED), and returns null when
-- there is none. With p_replace_expired, an expired key is removed, so that this unit of work
-- can store it afresh; a live key (a concurrent twin's) is never removed.
CREATE FUNCTION regent_idempotency_replay(p_key jsonb, p_replace_expired boolean) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  k idempotency_keys%ROWTYPE;
BEGIN
  SELECT * INTO k FROM idempotency_keys
  WHERE principal = p_key->>'principal' AND key = p_key->>'key';
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF k.created_at <= now() - make_interval(hours => (p_key->>'ttlHours')::integer) THEN
    IF p_replace_expired THEN
      DELETE FROM idempotency_keys
      WHERE principal = k.principal AND key = k.key
        AND created_at <= now() - make_interval(hours => (p_key->>'ttlHours')::integer);
    END IF;
    RETURN NULL;
  END IF;
  IF k.method <> p_key->>'method' OR k.path <> p_key->>'path' OR k.request_sha256 <> p_key->>'requestSha256' THEN
    PERFORM regent_refuse_with('IDEMPOTENCY_KEY_REUSED',
      jsonb_build_object('originalMethod', k.method, 'originalPath', k.path));
  END IF;
  RETURN k.response_body;
END $$;
--> statement-breakpoint
CREATE FUNCTION regent_idempotency_store(p_key jsonb, p_body jsonb) RETURNS void LANGUAGE sql VOLATILE AS $$
  INSERT INTO idempotency_keys (principal, key, method, path, request_sha256, response_status, response_body)
  VALUES (p_key->>'principal', p_key->>'key', p_key->>'method', p_key->>'path',
          p_key->>'requestSha256', (p_key->>'status')::integer, p_body)
$$;
--> statement-breakpoint

-- Why a retry intent could not be consumed or rejected: INTENT_NOT_FOUND, INTENT_EXPIRED (a
-- PENDING one past its time, by the database's clock), or INTENT_NOT_PENDING naming the job a
-- consumed one created.
CREATE FUNCTION regent_refuse_not_pending(p_intent_id text) RETURNS void LANGUAGE plpgsql AS $$
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
--> statement-breakpoint

-- Submits a job: the PENDING job and its JOB_CREATED event. Returns {job}.
CREATE FUNCTION regent_submit_job_work(p_id text, p_generator text, p_input jsonb, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  j regeneration_jobs%ROWTYPE;
BEGIN
  INSERT INTO regeneration_jobs (id, generator, input, created_by)
  VALUES (p_id, p_generator, p_input, p_ctx->>'actor')
  RETURNING * INTO j;
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'JOB_CREATED', 'subjectType', 'job', 'subjectId', j.id,
    'data', jsonb_build_object('generator', j.generator))));
  PERFORM pg_notify('regent_job_created', '');
  RETURN jsonb_build_object('job', regent_job_json(j));
END $$;
--> statement-breakpoint

-- Records an admin's approval to retry a FAILED job, with its RETRY_INTENT_CREATED event.
-- The job's row is locked first (NO KEY UPDATE), as executing an intent locks it, so that for
-- one job the two run one after the other. Refused: JOB_NOT_FOUND, JOB_NOT_FAILED,
-- JOB_ALREADY_RETRIED, RETRY_BUDGET_EXHAUSTED, INTENT_ALREADY_PENDING. Returns {intent}.
CREATE FUNCTION regent_create_retry_intent_work(
  p_id text, p_source_job_id text, p_source_output_ref text, p_reason_code text,
  p_reason_text text, p_override_budget boolean, p_ttl_hours integer, p_budget integer, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_status job_status;
  v_depth integer;
  v_retry_id text;
  v_over boolean;
  v_budget_set text;
  i retry_intents%ROWTYPE;
BEGIN
  -- The same statement tells the triggers the retry budget, for this transaction only.
  SELECT j.status, regent_retry_depth(j.id), set_config('regent.retry_budget', p_budget::text, true)
    INTO v_status, v_depth, v_budget_set
  FROM regeneration_jobs j WHERE j.id = p_source_job_id
  FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('JOB_NOT_FOUND', jsonb_build_object('jobId', p_source_job_id));
  END IF;
  IF v_status <> 'FAILED' THEN
    PERFORM regent_refuse_with('JOB_NOT_FAILED',
      jsonb_build_object('jobId', p_source_job_id, 'status', v_status));
  END IF;
  SELECT id INTO v_retry_id FROM regeneration_jobs WHERE retry_of_job_id = p_source_job_id;
  IF v_retry_id IS NOT NULL THEN
    PERFORM regent_refuse_with('JOB_ALREADY_RETRIED',
      jsonb_build_object('jobId', p_source_job_id, 'retryJobId', v_retry_id));
  END IF;
  v_over := v_depth >= p_budget;
  IF v_over AND NOT p_override_budget THEN
    PERFORM regent_refuse_with('RETRY_BUDGET_EXHAUSTED',
      jsonb_build_object('jobId', p_source_job_id, 'depth', v_depth, 'budget', p_budget));
  END IF;
  -- The partial unique index decides between two PENDING intents for one job.
  INSERT INTO retry_intents (id, source_job_id, source_output_ref, reason_code, reason_text,
                             approved_by, budget_override, expires_at)
  VALUES (p_id, p_source_job_id, p_source_output_ref, p_reason_code::retry_reason_code, p_reason_text,
          p_ctx->>'actor', v_over, now() + make_interval(hours => p_ttl_hours))
  ON CONFLICT (source_job_id) WHERE status = 'PENDING' DO NOTHING
  RETURNING * INTO i;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('INTENT_ALREADY_PENDING', jsonb_build_object(
      'jobId', p_source_job_id,
      'intentId', (SELECT id FROM retry_intents WHERE source_job_id = p_source_job_id AND status = 'PENDING')));
  END IF;
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_INTENT_CREATED', 'subjectType', 'retry_intent', 'subjectId', i.id,
    'data', jsonb_build_object(
      'sourceJobId', p_source_job_id, 'reasonCode', i.reason_code, 'reasonText', i.reason_text,
      'retryDepth', v_depth, 'budget', p_budget, 'expiresAt', regent_iso(i.expires_at))
      || CASE WHEN v_over THEN jsonb_build_object('budgetOverride', true) ELSE '{}'::jsonb END)));
  RETURN jsonb_build_object('intent', regent_intent_json(i));
END $$;
--> statement-breakpoint

-- Executes a PENDING, unexpired intent: consumes it and creates the retry job, linked to the
-- failed one, with RETRY_INTENT_CONSUMED, RETRY_INTENT_EXECUTED, JOB_CREATED and
-- REGEN_JOB_RETRIED. Lock order: the failed job, then the intent. Of concurrent executes one
-- consumes the intent; the others wait on the job's lock and then find it CONSUMED.
-- Refused: INTENT_NOT_FOUND, FOUR_EYES_REQUIRED (with p_require_distinct_executor),
-- INTENT_NOT_PENDING (naming the job), INTENT_EXPIRED, JOB_ALREADY_RETRIED. Returns {intent, job}.
CREATE FUNCTION regent_execute_retry_intent_work(
  p_intent_id text, p_job_id text, p_require_distinct_executor boolean, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  pending retry_intents%ROWTYPE;
  i retry_intents%ROWTYPE;
  src regeneration_jobs%ROWTYPE;
  j regeneration_jobs%ROWTYPE;
  v_retry_id text;
BEGIN
  SELECT * INTO pending FROM retry_intents WHERE id = p_intent_id;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('INTENT_NOT_FOUND', jsonb_build_object('intentId', p_intent_id));
  END IF;
  IF p_require_distinct_executor AND pending.status = 'PENDING' AND pending.approved_by = p_ctx->>'actor' THEN
    PERFORM regent_refuse_with('FOUR_EYES_REQUIRED',
      jsonb_build_object('intentId', pending.id, 'approvedBy', pending.approved_by));
  END IF;
  SELECT * INTO src FROM regeneration_jobs WHERE id = pending.source_job_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('JOB_NOT_FOUND', jsonb_build_object('jobId', pending.source_job_id));
  END IF;
  UPDATE retry_intents SET status = 'CONSUMED', consumed_by = p_ctx->>'actor', consumed_at = now()
  WHERE id = p_intent_id AND status = 'PENDING' AND expires_at > statement_timestamp()
  RETURNING * INTO i;
  IF NOT FOUND THEN
    PERFORM regent_refuse_not_pending(p_intent_id);
  END IF;
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_INTENT_CONSUMED', 'subjectType', 'retry_intent', 'subjectId', i.id,
    'data', jsonb_build_object('sourceJobId', i.source_job_id))));
  -- The unique retry_of_job_id decides if the job was retried meanwhile.
  INSERT INTO regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id, created_by)
  VALUES (p_job_id, src.generator, src.input, src.id, i.id, p_ctx->>'actor')
  ON CONFLICT (retry_of_job_id) DO NOTHING
  RETURNING * INTO j;
  IF NOT FOUND THEN
    SELECT id INTO v_retry_id FROM regeneration_jobs WHERE retry_of_job_id = src.id;
    PERFORM regent_refuse_with('JOB_ALREADY_RETRIED',
      jsonb_build_object('jobId', src.id, 'retryJobId', v_retry_id));
  END IF;
  PERFORM regent_audit(p_ctx, jsonb_build_array(
    jsonb_build_object('type', 'RETRY_INTENT_EXECUTED', 'subjectType', 'retry_intent', 'subjectId', i.id,
      'data', jsonb_build_object('sourceJobId', src.id, 'jobId', j.id)),
    jsonb_build_object('type', 'JOB_CREATED', 'subjectType', 'job', 'subjectId', j.id,
      'data', jsonb_build_object('generator', j.generator, 'retryOfJobId', src.id, 'retryIntentId', i.id)),
    jsonb_build_object('type', 'REGEN_JOB_RETRIED', 'subjectType', 'job', 'subjectId', src.id,
      'data', jsonb_build_object('retryJobId', j.id, 'retryIntentId', i.id,
                                 'reasonCode', i.reason_code, 'approvedBy', i.approved_by))));
  PERFORM pg_notify('regent_job_created', '');
  RETURN jsonb_build_object('intent', regent_intent_json(i), 'job', regent_job_json(j));
END $$;
--> statement-breakpoint

-- Declines a PENDING intent with the admin's reason, and RETRY_INTENT_REJECTED. Returns {intent}.
CREATE FUNCTION regent_reject_retry_intent(p_intent_id text, p_text text, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  i retry_intents%ROWTYPE;
BEGIN
  UPDATE retry_intents
  SET status = 'REJECTED', rejected_by = p_ctx->>'actor', rejected_at = now(), rejection_text = p_text
  WHERE id = p_intent_id AND status = 'PENDING'
  RETURNING * INTO i;
  IF NOT FOUND THEN
    PERFORM regent_refuse_not_pending(p_intent_id);
  END IF;
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_INTENT_REJECTED', 'subjectType', 'retry_intent', 'subjectId', i.id,
    'data', jsonb_build_object('sourceJobId', i.source_job_id, 'reasonText', p_text))));
  RETURN jsonb_build_object('intent', regent_intent_json(i));
END $$;
--> statement-breakpoint

-- Approves the previewed set as one batch. The jobs the filter matches are locked (NO KEY
-- UPDATE, in id order); a lock that waited for a concurrent approval returned them as the
-- statement's snapshot saw them, so a second statement reads the set again once they are held.
-- If it is still the one the preview's token names, the batch and one PENDING intent per job
-- are written in two set-based statements, each intent with its event. Refused: BATCH_EMPTY,
-- BATCH_TOO_LARGE, BATCH_PREVIEW_STALE (with the new count and token). Returns {batch}.
-- p_filter holds the application's normalised filter: generator, errorCode, failedAfter,
-- failedBefore, each optional.
CREATE FUNCTION regent_create_retry_batch_work(
  p_id text, p_filter jsonb, p_preview_token text, p_reason_code text, p_reason_text text,
  p_ttl_hours integer, p_budget integer, p_max integer, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_generator constant text := p_filter->>'generator';
  v_error_code constant text := p_filter->>'errorCode';
  v_after constant timestamptz := (p_filter->>'failedAfter')::timestamptz;
  v_before constant timestamptz := (p_filter->>'failedBefore')::timestamptz;
  v_ids text[];
  v_count integer;
  v_token text;
  b retry_batches%ROWTYPE;
BEGIN
  PERFORM set_config('regent.retry_budget', p_budget::text, true);
  PERFORM j.id FROM regeneration_jobs j
  WHERE j.status = 'FAILED'
    AND (v_generator IS NULL OR j.generator = v_generator)
    AND (v_error_code IS NULL OR j.error->>'code' = v_error_code)
    AND (v_after IS NULL OR j.finished_at >= v_after)
    AND (v_before IS NULL OR j.finished_at < v_before)
    AND NOT EXISTS (SELECT 1 FROM regeneration_jobs r WHERE r.retry_of_job_id = j.id)
  ORDER BY j.id
  FOR NO KEY UPDATE OF j;
  SELECT coalesce(array_agg(c.id ORDER BY c.id) FILTER (WHERE NOT c.pending AND c.depth < p_budget), '{}')
    INTO v_ids
  FROM (
    SELECT j.id,
           -- Most failed jobs are originals; only a retry needs its chain walked.
           CASE WHEN j.retry_of_job_id IS NULL THEN 0 ELSE regent_retry_depth(j.id) END AS depth,
           EXISTS (SELECT 1 FROM retry_intents i WHERE i.source_job_id = j.id AND i.status = 'PENDING') AS pending
    FROM regeneration_jobs j
    WHERE j.status = 'FAILED'
      AND (v_generator IS NULL OR j.generator = v_generator)
      AND (v_error_code IS NULL OR j.error->>'code' = v_error_code)
      AND (v_after IS NULL OR j.finished_at >= v_after)
      AND (v_before IS NULL OR j.finished_at < v_before)
      AND NOT EXISTS (SELECT 1 FROM regeneration_jobs r WHERE r.retry_of_job_id = j.id)
    ORDER BY j.id
    FOR NO KEY UPDATE OF j
  ) c;
  v_count := cardinality(v_ids);
  IF v_count = 0 THEN
    PERFORM regent_refuse_with('BATCH_EMPTY', jsonb_build_object('count', 0));
  END IF;
  IF v_count > p_max THEN
    PERFORM regent_refuse_with('BATCH_TOO_LARGE', jsonb_build_object('count', v_count, 'max', p_max));
  END IF;
  -- The preview's token: SHA-256 of the sorted ids, one per line.
  v_token := encode(sha256(convert_to(array_to_string(v_ids, E'\n'), 'UTF8')), 'hex');
  IF v_token <> p_preview_token THEN
    PERFORM regent_refuse_with('BATCH_PREVIEW_STALE',
      jsonb_build_object('count', v_count, 'previewToken', v_token));
  END IF;
  INSERT INTO retry_batches (id, filter, reason_code, reason_text, approved_by, job_count)
  VALUES (p_id, p_filter, p_reason_code::retry_reason_code, p_reason_text, p_ctx->>'actor', v_count)
  RETURNING * INTO b;
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_BATCH_CREATED', 'subjectType', 'retry_batch', 'subjectId', b.id,
    'data', jsonb_build_object('filter', p_filter, 'reasonCode', b.reason_code,
                               'reasonText', b.reason_text, 'jobCount', b.job_count))));
  WITH created AS (
    INSERT INTO retry_intents (id, source_job_id, reason_code, reason_text, approved_by, batch_id, expires_at)
    SELECT regent_new_id(), s.job_id, b.reason_code, b.reason_text, b.approved_by, b.id,
           now() + make_interval(hours => p_ttl_hours)
    FROM unnest(v_ids) WITH ORDINALITY AS s(job_id, n)
    ORDER BY s.n
    RETURNING id, source_job_id
  )
  INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
  SELECT 'RETRY_INTENT_CREATED', p_ctx->>'actor', 'retry_intent', c.id,
         jsonb_build_object('sourceJobId', c.source_job_id, 'reasonCode', b.reason_code, 'batchId', b.id),
         p_ctx->>'requestId', p_ctx->>'ip', p_ctx->>'userAgent'
  FROM created c
  ORDER BY c.source_job_id;
  RETURN jsonb_build_object('batch', regent_batch_json(b));
END $$;
--> statement-breakpoint

-- A batch, held for the rest of the transaction: executes and rejects of one batch run one
-- after the other (a transaction-level advisory lock: a row lock would need UPDATE on an
-- insert-only table). Refused: BATCH_NOT_FOUND.
CREATE FUNCTION regent_lock_retry_batch(p_batch_id text) RETURNS retry_batches LANGUAGE plpgsql AS $$
DECLARE
  b retry_batches%ROWTYPE;
BEGIN
  SELECT * INTO b FROM retry_batches WHERE id = p_batch_id;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('BATCH_NOT_FOUND', jsonb_build_object('batchId', p_batch_id));
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('regent.retry_batch:' || p_batch_id, 0));
  RETURN b;
END $$;
--> statement-breakpoint

-- A batch's intents by status.
CREATE FUNCTION regent_batch_counts(p_batch_id text) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'pending', count(*) FILTER (WHERE status = 'PENDING'),
    'consumed', count(*) FILTER (WHERE status = 'CONSUMED'),
    'rejected', count(*) FILTER (WHERE status = 'REJECTED'))
  FROM retry_intents WHERE batch_id = p_batch_id
$$;
--> statement-breakpoint

-- Executes every PENDING, unexpired intent of a batch as a single intent is executed, 500 at a
-- time: the intents are consumed (with their events) in one statement and their jobs created
-- (with theirs) in the next, whose insert trigger must see the intents CONSUMED. Then
-- RETRY_BATCH_EXECUTED with what was created and skipped. Refused: BATCH_NOT_FOUND,
-- FOUR_EYES_REQUIRED. Returns {batch, created, skipped, counts}.
CREATE FUNCTION regent_execute_retry_batch(p_batch_id text, p_require_distinct_executor boolean, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  b retry_batches%ROWTYPE;
  v_consumed text[];
  v_created integer := 0;
  v_counts jsonb;
  v_expired integer;
  v_skipped jsonb;
BEGIN
  b := regent_lock_retry_batch(p_batch_id);
  IF p_require_distinct_executor AND b.approved_by = p_ctx->>'actor' THEN
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
      UPDATE retry_intents i SET status = 'CONSUMED', consumed_by = p_ctx->>'actor', consumed_at = now()
      FROM picked WHERE i.id = picked.id
      RETURNING i.id, i.source_job_id
    ), audit AS (
      INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
      SELECT 'RETRY_INTENT_CONSUMED', p_ctx->>'actor', 'retry_intent', id,
             jsonb_build_object('sourceJobId', source_job_id, 'batchId', b.id),
             p_ctx->>'requestId', p_ctx->>'ip', p_ctx->>'userAgent'
      FROM consumed
    )
    SELECT coalesce(array_agg(id), '{}') INTO v_consumed FROM consumed;
    EXIT WHEN cardinality(v_consumed) = 0;
    WITH jobs AS (
      INSERT INTO regeneration_jobs (id, generator, input, retry_of_job_id, retry_intent_id, created_by)
      SELECT regent_new_id(), src.generator, src.input, src.id, i.id, p_ctx->>'actor'
      FROM unnest(v_consumed) WITH ORDINALITY AS c(intent_id, n)
      JOIN retry_intents i ON i.id = c.intent_id
      JOIN regeneration_jobs src ON src.id = i.source_job_id
      ORDER BY c.n
      RETURNING id, generator, retry_of_job_id, retry_intent_id
    )
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
    SELECT e.type, p_ctx->>'actor', e.subject_type, e.subject_id, e.data,
           p_ctx->>'requestId', p_ctx->>'ip', p_ctx->>'userAgent'
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
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_BATCH_EXECUTED', 'subjectType', 'retry_batch', 'subjectId', b.id,
    'data', jsonb_build_object('created', v_created, 'skipped', v_skipped))));
  RETURN jsonb_build_object('batch', regent_batch_json(b), 'created', v_created,
                            'skipped', v_skipped, 'counts', v_counts);
END $$;
--> statement-breakpoint

-- Rejects every PENDING intent of a batch with the admin's reason, each with its
-- RETRY_INTENT_REJECTED event, then RETRY_BATCH_REJECTED. Refused: BATCH_NOT_FOUND.
-- Returns {batch, rejected, counts}.
CREATE FUNCTION regent_reject_retry_batch(p_batch_id text, p_text text, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  b retry_batches%ROWTYPE;
  v_rejected integer;
BEGIN
  b := regent_lock_retry_batch(p_batch_id);
  WITH rejected AS (
    UPDATE retry_intents
    SET status = 'REJECTED', rejected_by = p_ctx->>'actor', rejected_at = now(), rejection_text = p_text
    WHERE batch_id = b.id AND status = 'PENDING'
    RETURNING id, source_job_id
  ), audit AS (
    INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
    SELECT 'RETRY_INTENT_REJECTED', p_ctx->>'actor', 'retry_intent', id,
           jsonb_build_object('sourceJobId', source_job_id, 'reasonText', p_text, 'batchId', b.id),
           p_ctx->>'requestId', p_ctx->>'ip', p_ctx->>'userAgent'
    FROM rejected
  )
  SELECT count(*) INTO v_rejected FROM rejected;
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_BATCH_REJECTED', 'subjectType', 'retry_batch', 'subjectId', b.id,
    'data', jsonb_build_object('reasonText', p_text, 'rejected', v_rejected))));
  RETURN jsonb_build_object('batch', regent_batch_json(b), 'rejected', v_rejected,
                            'counts', regent_batch_counts(b.id));
END $$;
--> statement-breakpoint

-- The creations that accept an Idempotency-Key. Without a key (p_key null) the work simply
-- runs. With one, a live key for the same request replays its stored response ({replayed:
-- true, body}), one for another request is IDEMPOTENCY_KEY_REUSED, and otherwise the work and
-- the key's storage commit together, an expired key being replaced in the same unit. A
-- concurrent twin that stored the key first makes this one's work roll back (to the
-- subtransaction's start) and its response is replayed instead; so is a refusal caused by the
-- twin's work (an intent it consumed). Refusals are not stored: asking again asks again.
-- Each returns {body} or {replayed: true, body}.
CREATE FUNCTION regent_submit_job(p_id text, p_generator text, p_input jsonb, p_ctx jsonb, p_key jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_body jsonb;
BEGIN
  IF p_key IS NULL THEN
    RETURN jsonb_build_object('body', regent_submit_job_work(p_id, p_generator, p_input, p_ctx));
  END IF;
  v_body := regent_idempotency_replay(p_key, true);
  IF v_body IS NOT NULL THEN
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END IF;
  BEGIN
    v_body := regent_submit_job_work(p_id, p_generator, p_input, p_ctx);
    PERFORM regent_idempotency_store(p_key, v_body);
    RETURN jsonb_build_object('body', v_body);
  EXCEPTION WHEN OTHERS THEN
    v_body := regent_idempotency_replay(p_key, false);
    IF v_body IS NULL THEN
      RAISE;
    END IF;
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END;
END $$;
--> statement-breakpoint
CREATE FUNCTION regent_create_retry_intent(
  p_id text, p_source_job_id text, p_source_output_ref text, p_reason_code text,
  p_reason_text text, p_override_budget boolean, p_ttl_hours integer, p_budget integer,
  p_ctx jsonb, p_key jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_body jsonb;
BEGIN
  IF p_key IS NULL THEN
    RETURN jsonb_build_object('body', regent_create_retry_intent_work(p_id, p_source_job_id,
      p_source_output_ref, p_reason_code, p_reason_text, p_override_budget, p_ttl_hours, p_budget, p_ctx));
  END IF;
  v_body := regent_idempotency_replay(p_key, true);
  IF v_body IS NOT NULL THEN
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END IF;
  BEGIN
    v_body := regent_create_retry_intent_work(p_id, p_source_job_id, p_source_output_ref,
      p_reason_code, p_reason_text, p_override_budget, p_ttl_hours, p_budget, p_ctx);
    PERFORM regent_idempotency_store(p_key, v_body);
    RETURN jsonb_build_object('body', v_body);
  EXCEPTION WHEN OTHERS THEN
    v_body := regent_idempotency_replay(p_key, false);
    IF v_body IS NULL THEN
      RAISE;
    END IF;
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END;
END $$;
--> statement-breakpoint
CREATE FUNCTION regent_execute_retry_intent(
  p_intent_id text, p_job_id text, p_require_distinct_executor boolean, p_ctx jsonb, p_key jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_body jsonb;
BEGIN
  IF p_key IS NULL THEN
    RETURN jsonb_build_object('body',
      regent_execute_retry_intent_work(p_intent_id, p_job_id, p_require_distinct_executor, p_ctx));
  END IF;
  v_body := regent_idempotency_replay(p_key, true);
  IF v_body IS NOT NULL THEN
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END IF;
  BEGIN
    v_body := regent_execute_retry_intent_work(p_intent_id, p_job_id, p_require_distinct_executor, p_ctx);
    PERFORM regent_idempotency_store(p_key, v_body);
    RETURN jsonb_build_object('body', v_body);
  EXCEPTION WHEN OTHERS THEN
    v_body := regent_idempotency_replay(p_key, false);
    IF v_body IS NULL THEN
      RAISE;
    END IF;
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END;
END $$;
--> statement-breakpoint
CREATE FUNCTION regent_create_retry_batch(
  p_id text, p_filter jsonb, p_preview_token text, p_reason_code text, p_reason_text text,
  p_ttl_hours integer, p_budget integer, p_max integer, p_ctx jsonb, p_key jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  v_body jsonb;
BEGIN
  IF p_key IS NULL THEN
    RETURN jsonb_build_object('body', regent_create_retry_batch_work(p_id, p_filter, p_preview_token,
      p_reason_code, p_reason_text, p_ttl_hours, p_budget, p_max, p_ctx));
  END IF;
  v_body := regent_idempotency_replay(p_key, true);
  IF v_body IS NOT NULL THEN
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END IF;
  BEGIN
    v_body := regent_create_retry_batch_work(p_id, p_filter, p_preview_token, p_reason_code,
      p_reason_text, p_ttl_hours, p_budget, p_max, p_ctx);
    PERFORM regent_idempotency_store(p_key, v_body);
    RETURN jsonb_build_object('body', v_body);
  EXCEPTION WHEN OTHERS THEN
    v_body := regent_idempotency_replay(p_key, false);
    IF v_body IS NULL THEN
      RAISE;
    END IF;
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END;
END $$;
--> statement-breakpoint

-- Admin page sessions: started for a token just verified, with ADMIN_SIGNED_IN; ended once,
-- with ADMIN_SIGNED_OUT (an ended one is left as it is: false).
CREATE FUNCTION regent_start_admin_session(p_id text, p_token_id text, p_ttl_hours integer, p_ctx jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  s admin_sessions%ROWTYPE;
BEGIN
  INSERT INTO admin_sessions (id, token_id, expires_at)
  VALUES (p_id, p_token_id, now() + make_interval(hours => p_ttl_hours))
  RETURNING * INTO s;
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'ADMIN_SIGNED_IN', 'subjectType', 'admin_session', 'subjectId', s.id,
    'data', jsonb_build_object('via', 'token', 'tokenId', p_token_id, 'expiresAt', regent_iso(s.expires_at)))));
  RETURN jsonb_build_object('id', s.id, 'expiresAt', regent_iso(s.expires_at));
END $$;
--> statement-breakpoint
CREATE FUNCTION regent_end_admin_session(p_id text, p_ctx jsonb) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_token_id text;
BEGIN
  UPDATE admin_sessions SET ended_at = now() WHERE id = p_id AND ended_at IS NULL
  RETURNING token_id INTO v_token_id;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM regent_audit(p_ctx, jsonb_build_array(jsonb_build_object(
    'type', 'ADMIN_SIGNED_OUT', 'subjectType', 'admin_session', 'subjectId', p_id,
    'data', jsonb_build_object('via', 'token', 'tokenId', v_token_id))));
  RETURN true;
END $$;
--> statement-breakpoint

-- The application role calls the units of work and the helpers they call (a function runs
-- with its caller's rights, helpers included); nobody else needs any of them. One list of
-- names, each function revoked from PUBLIC and granted to regent_app.
DO $$
DECLARE
  f regprocedure;
BEGIN
  FOR f IN
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE pg_function_is_visible(p.oid) AND p.proname = ANY (ARRAY[
      'regent_iso', 'regent_job_json', 'regent_intent_json', 'regent_batch_json',
      'regent_new_id', 'regent_refuse_with', 'regent_audit', 'regent_idempotency_replay',
      'regent_idempotency_store', 'regent_refuse_not_pending', 'regent_submit_job_work',
      'regent_create_retry_intent_work', 'regent_execute_retry_intent_work',
      'regent_reject_retry_intent', 'regent_create_retry_batch_work', 'regent_lock_retry_batch',
      'regent_batch_counts', 'regent_execute_retry_batch', 'regent_reject_retry_batch',
      'regent_submit_job', 'regent_create_retry_intent', 'regent_execute_retry_intent',
      'regent_create_retry_batch', 'regent_start_admin_session', 'regent_end_admin_session'])
  LOOP
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO regent_app', f);
  END LOOP;
END $$;
