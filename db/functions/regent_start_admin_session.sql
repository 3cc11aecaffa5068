-- Signs in to the admin page with an API token ({ctx, sessionId, tokenSha256}: the SHA-256 of
-- the secret the form carried), in one statement: the token is looked up, and a live admin or
-- viewer token starts a session of eight hours (a working day: signing in again is cheap, and
-- a stolen cookie ages out), with ADMIN_SIGNED_IN by the token. A token that cannot sign in is
-- answered, not raised, so that the application can count and audit the failure:
-- {refused: unknown | revoked | forbidden role, tokenId?}. Otherwise {id, expiresAt, tokenId}.
-- The only writer of admin_sessions with regent_end_admin_session: SECURITY DEFINER, so the
-- application role cannot start a session without its event, nor for a revoked token, nor one
-- longer than this.
CREATE FUNCTION regent_start_admin_session(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  t api_tokens%ROWTYPE;
  s admin_sessions%ROWTYPE;
BEGIN
  SELECT * INTO t FROM api_tokens WHERE token_sha256 = p->>'tokenSha256';
  IF NOT FOUND THEN
    RETURN jsonb_build_object('refused', 'unknown');
  END IF;
  IF t.revoked_at IS NOT NULL THEN
    RETURN jsonb_build_object('refused', 'revoked', 'tokenId', t.id);
  END IF;
  IF t.role NOT IN ('admin', 'viewer') THEN
    RETURN jsonb_build_object('refused', 'forbidden role', 'tokenId', t.id);
  END IF;
  INSERT INTO admin_sessions (id, token_id, expires_at)
  VALUES (p->>'sessionId', t.id, now() + interval '8 hours')
  RETURNING * INTO s;
  PERFORM regent_audit(jsonb_set(p->'ctx', '{actor}', to_jsonb('token:' || t.id)), jsonb_build_array(jsonb_build_object(
    'type', 'ADMIN_SIGNED_IN', 'subjectType', 'admin_session', 'subjectId', s.id,
    'data', jsonb_build_object('via', 'token', 'tokenId', s.token_id, 'expiresAt', regent_iso(s.expires_at)))));
  RETURN jsonb_build_object('id', s.id, 'expiresAt', regent_iso(s.expires_at), 'tokenId', t.id);
END $$;

GRANT EXECUTE ON FUNCTION regent_start_admin_session(jsonb) TO regent_app;
