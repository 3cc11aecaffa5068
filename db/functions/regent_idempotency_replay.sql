-- The answer stored with a live Idempotency-Key for the same request (to replay), a refusal
-- for one used by another request (IDEMPOTENCY_KEY_REUSED), or null when there is none.
-- p_key is {principal, key, method, path, requestSha256, status, ttlHours}. With
-- p_replace_expired, an expired key is removed, so that this unit of work can store it afresh;
-- a live key (a concurrent twin's) is never removed.
CREATE FUNCTION regent_idempotency_replay(p_key jsonb, p_replace_expired boolean) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
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

GRANT EXECUTE ON FUNCTION regent_idempotency_replay(jsonb, boolean) TO regent_app;
