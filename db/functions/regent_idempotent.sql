-- Runs one of the creations that accept an Idempotency-Key (p_unit names it) with its argument
-- p, once its caller is settled (regent_authorized); p->'key' is the key ({principal, key,
-- method, path, requestSha256, status, ttlHours}) or absent. Without a key the unit simply
-- runs. With one, a live key for the same request replays the answer stored with it (the rows
-- the first request wrote, which the application presents as it presented them then), one for
-- another request is IDEMPOTENCY_KEY_REUSED, and otherwise the unit and the key's storage
-- commit together, an expired key being replaced in the same statement. A concurrent twin that
-- stored the key first makes this one's work roll back (to the subtransaction's start) and its
-- answer is replayed instead; so is a refusal caused by the twin's work (an intent it
-- consumed). Refusals are not stored: asking again asks again. Returns {body} or
-- {replayed: true, body}.
CREATE FUNCTION regent_idempotent(p_unit text, p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_key jsonb;
  v_body jsonb;
BEGIN
  p := regent_authorized(p);
  v_key := nullif(p->'key', 'null'::jsonb);
  IF p_unit NOT IN ('submit_job', 'create_retry_intent', 'execute_retry_intent', 'create_retry_batch') THEN
    RAISE EXCEPTION 'no unit of work named %', p_unit USING ERRCODE = 'RG001';
  END IF;
  IF v_key IS NOT NULL THEN
    v_body := regent_idempotency_replay(v_key, true);
    IF v_body IS NOT NULL THEN
      RETURN jsonb_build_object('replayed', true, 'body', v_body);
    END IF;
  END IF;
  BEGIN
    v_body := CASE p_unit
      WHEN 'submit_job' THEN regent_submit_job(p)
      WHEN 'create_retry_intent' THEN regent_create_retry_intent(p)
      WHEN 'execute_retry_intent' THEN regent_execute_retry_intent(p)
      WHEN 'create_retry_batch' THEN regent_create_retry_batch(p)
    END;
    IF v_key IS NOT NULL THEN
      INSERT INTO idempotency_keys (principal, key, method, path, request_sha256, response_status, response_body)
      VALUES (v_key->>'principal', v_key->>'key', v_key->>'method', v_key->>'path',
              v_key->>'requestSha256', (v_key->>'status')::integer, v_body);
    END IF;
    RETURN jsonb_build_object('body', v_body);
  EXCEPTION WHEN OTHERS THEN
    IF v_key IS NULL THEN
      RAISE;
    END IF;
    v_body := regent_idempotency_replay(v_key, false);
    IF v_body IS NULL THEN
      RAISE;
    END IF;
    RETURN jsonb_build_object('replayed', true, 'body', v_body);
  END;
END $$;

GRANT EXECUTE ON FUNCTION regent_idempotent(text, jsonb) TO regent_app;
