-- Revokes a token for good ({ctx, tokenId}), with API_TOKEN_REVOKED; a token revoked already
-- is answered as it is, with no second event. Refused: NOT_FOUND. SECURITY DEFINER, as
-- regent_create_api_token. Returns the token's public row as JSON.
CREATE FUNCTION regent_revoke_api_token(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  t api_tokens%ROWTYPE;
BEGIN
  UPDATE api_tokens SET revoked_at = now() WHERE id = p->>'tokenId' AND revoked_at IS NULL
  RETURNING * INTO t;
  IF NOT FOUND THEN
    SELECT * INTO t FROM api_tokens WHERE id = p->>'tokenId';
    IF NOT FOUND THEN
      PERFORM regent_refuse_with('NOT_FOUND', jsonb_build_object('tokenId', p->>'tokenId'));
    END IF;
    RETURN to_jsonb(t) - 'token_sha256';
  END IF;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'API_TOKEN_REVOKED', 'subjectType', 'api_token', 'subjectId', t.id,
    'data', jsonb_build_object('name', t.name))));
  RETURN to_jsonb(t) - 'token_sha256';
END $$;

GRANT EXECUTE ON FUNCTION regent_revoke_api_token(jsonb) TO regent_app;
