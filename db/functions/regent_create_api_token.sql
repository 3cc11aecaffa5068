-- Creates an API token ({ctx, name, role, tokenSha256, ifAbsent?}) from the hash of its
-- secret (the secret itself never reaches the database), with API_TOKEN_CREATED. With
-- ifAbsent, a token with that hash that exists already (revoked or not) is left as it is and
-- null is returned: a bootstrap token is ensured, never revived. The only writer of
-- api_tokens with regent_revoke_api_token: SECURITY DEFINER, so no token works without its
-- event. Returns the token's public row as JSON (never its hash).
CREATE FUNCTION regent_create_api_token(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  t api_tokens%ROWTYPE;
BEGIN
  IF p->>'tokenSha256' !~ '^[0-9a-f]{64}$' THEN
    RAISE EXCEPTION 'a token is stored as the SHA-256 of its secret, in hex' USING ERRCODE = 'RG001';
  END IF;
  INSERT INTO api_tokens (id, name, role, token_sha256)
  VALUES (regent_new_id(), btrim(p->>'name'), (p->>'role')::api_token_role, p->>'tokenSha256')
  ON CONFLICT (token_sha256) DO NOTHING
  RETURNING * INTO t;
  IF NOT FOUND THEN
    IF coalesce((p->>'ifAbsent')::boolean, false) THEN
      RETURN NULL;
    END IF;
    RAISE EXCEPTION 'a token with this secret exists already' USING ERRCODE = 'RG001';
  END IF;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'API_TOKEN_CREATED', 'subjectType', 'api_token', 'subjectId', t.id,
    'data', jsonb_build_object('name', t.name, 'role', t.role))));
  RETURN to_jsonb(t) - 'token_sha256';
END $$;

GRANT EXECUTE ON FUNCTION regent_create_api_token(jsonb) TO regent_app;
