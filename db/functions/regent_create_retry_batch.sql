-- Approves the previewed set, or the jobs chosen from it, as one batch ({ctx, kind?, filter,
-- previewToken, jobIds?, reasonCode, reasonText, expiresInHours?}): of FAILED jobs to retry (kind RETRY, the default) or of
-- COMPLETED ones to supersede (SUPERSEDE, with a reason that says what changed). The jobs the filter matches are locked (NO KEY UPDATE, in id order; of a
-- filter over more than a batch holds, those read before the walk stopped); a
-- lock that waited for a concurrent approval returned them as the statement's snapshot saw
-- them, so the set is read again (regent_preview_retry_batch) once they are held. If it is
-- still the one the preview's token names for this filter and kind, and the token has not
-- expired (regent_preview_token), the batch and one PENDING intent per job are
-- written in two set-based statements, each intent with its event. With jobIds, the batch holds
-- those jobs alone (each once), every one of which must be in the set the token names: a
-- selection an admin made from the preview, recorded as `previewCount` in the batch's event.
-- Refused: VALIDATION_FAILED (a lifetime outside the policy, a supersession with a reason that
-- changes nothing, jobIds that is not an array of ids), BATCH_EMPTY (no job, or jobIds empty),
-- BATCH_TOO_LARGE, BATCH_PREVIEW_STALE (with the new count and token; expiredAt when the
-- token's hour had passed; `outside`, the first ten chosen ids the set does not hold). Returns
-- {batch}.
CREATE FUNCTION regent_create_retry_batch(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_filter constant jsonb := coalesce(p->'filter', '{}'::jsonb);
  v_hours constant integer := regent_intent_hours(p);
  v_kind constant retry_intent_kind := coalesce(p->>'kind', 'RETRY')::retry_intent_kind;
  v_preview jsonb;
  v_count integer;
  v_ids text[];
  v_expires bigint;
  b retry_batches%ROWTYPE;
BEGIN
  IF v_kind = 'SUPERSEDE' AND p->>'reasonCode' NOT IN ('BAD_INPUT', 'IMPROVED_PROMPT', 'OTHER') THEN
    PERFORM regent_refuse_with('VALIDATION_FAILED', jsonb_build_object('field', 'reasonCode', 'kind', v_kind));
  END IF;
  PERFORM 1 FROM regeneration_jobs j
  WHERE j.id IN (SELECT c.id FROM regent_batch_candidates(v_filter, v_kind,
                   (SELECT retry_batch_max + 1 FROM regent_policy WHERE singleton)) c)
  ORDER BY j.id
  FOR NO KEY UPDATE OF j;
  v_preview := regent_preview_retry_batch(v_filter, v_kind);
  v_count := (v_preview->>'count')::integer;
  v_ids := ARRAY(SELECT jsonb_array_elements_text(v_preview->'jobIds'));
  IF v_count = 0 THEN
    PERFORM regent_refuse_with('BATCH_EMPTY', jsonb_build_object('count', 0));
  END IF;
  IF v_preview->'refusal' <> 'null'::jsonb THEN
    PERFORM regent_refuse_with(v_preview->'refusal'->>'code', v_preview->'refusal'->'details');
  END IF;
  -- The token's expiry is its own first part; a token made otherwise names no set.
  v_expires := CASE WHEN p->>'previewToken' ~ '^[0-9]{1,12}\.[0-9a-f]{64}$'
                    THEN split_part(p->>'previewToken', '.', 1)::bigint END;
  IF v_expires IS NOT NULL AND v_expires < extract(epoch FROM statement_timestamp()) THEN
    PERFORM regent_refuse_with('BATCH_PREVIEW_STALE', jsonb_build_object('count', v_count,
      'previewToken', v_preview->>'previewToken', 'expiredAt', regent_iso(to_timestamp(v_expires))));
  END IF;
  IF v_expires IS NULL
     OR p->>'previewToken' IS DISTINCT FROM regent_preview_token(v_filter, v_kind, v_ids, v_expires) THEN
    PERFORM regent_refuse_with('BATCH_PREVIEW_STALE',
      jsonb_build_object('count', v_count, 'previewToken', v_preview->>'previewToken'));
  END IF;
  -- A selection is a subset of the set the token names: the jobs the admin saw.
  IF p ? 'jobIds' THEN
    IF jsonb_typeof(p->'jobIds') <> 'array' OR EXISTS (
         SELECT 1 FROM jsonb_array_elements(p->'jobIds') e WHERE jsonb_typeof(e) <> 'string') THEN
      PERFORM regent_refuse_with('VALIDATION_FAILED', jsonb_build_object('field', 'jobIds'));
    END IF;
    IF jsonb_array_length(p->'jobIds') = 0 THEN
      PERFORM regent_refuse_with('BATCH_EMPTY', jsonb_build_object('count', 0));
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements_text(p->'jobIds') c(id) WHERE c.id <> ALL (v_ids)) THEN
      PERFORM regent_refuse_with('BATCH_PREVIEW_STALE', jsonb_build_object('count', v_count,
        'previewToken', v_preview->>'previewToken',
        'outside', ARRAY(SELECT DISTINCT c.id FROM jsonb_array_elements_text(p->'jobIds') c(id)
                         WHERE c.id <> ALL (v_ids) ORDER BY c.id LIMIT 10)));
    END IF;
    v_ids := ARRAY(SELECT DISTINCT c.id FROM jsonb_array_elements_text(p->'jobIds') c(id) ORDER BY c.id);
  END IF;
  INSERT INTO retry_batches (id, filter, kind, reason_code, reason_text, approved_by, job_count)
  VALUES (regent_new_id(), v_filter, v_kind, (p->>'reasonCode')::retry_reason_code, p->>'reasonText',
          p->'ctx'->>'actor', cardinality(v_ids))
  RETURNING * INTO b;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'RETRY_BATCH_CREATED', 'subjectType', 'retry_batch', 'subjectId', b.id,
    'data', jsonb_build_object('filter', v_filter, 'kind', b.kind, 'reasonCode', b.reason_code,
                               'reasonText', b.reason_text, 'jobCount', b.job_count)
            || CASE WHEN p ? 'jobIds' THEN jsonb_build_object('previewCount', v_count) ELSE '{}' END)));
  WITH created AS (
    INSERT INTO retry_intents (id, source_job_id, kind, reason_code, reason_text, approved_by, batch_id, expires_at)
    SELECT regent_new_id(), s.job_id, b.kind, b.reason_code, b.reason_text, b.approved_by, b.id,
           now() + make_interval(hours => v_hours)
    FROM unnest(v_ids) WITH ORDINALITY AS s(job_id, n)
    ORDER BY s.n
    RETURNING id, source_job_id
  )
  INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
  SELECT 'RETRY_INTENT_CREATED', p->'ctx'->>'actor', 'retry_intent', c.id,
         jsonb_build_object('sourceJobId', c.source_job_id, 'kind', b.kind, 'reasonCode', b.reason_code, 'batchId', b.id),
         p->'ctx'->>'requestId', p->'ctx'->>'ip', p->'ctx'->>'userAgent'
  FROM created c
  ORDER BY c.source_job_id;
  RETURN jsonb_build_object('batch', to_jsonb(b));
END $$;

GRANT EXECUTE ON FUNCTION regent_create_retry_batch(jsonb) TO regent_app;
