-- Who a request's credential proves, checked for a role, inside the statement that does the
-- request's work, so that a request costs one round trip: {actor, roles, via, label}, with
-- tokenId and, for a session, sessionId and expiresAt. p_credential is {kind: 'token', sha256}
-- (an API token, by the SHA-256 of its secret: the secret never reaches the database),
-- {kind: 'session', id} (an admin page session, live with its token), or {kind: 'known',
-- principal} (an identity the application proved itself: a Cloudflare Access assertion).
-- p_role is the role asked for (admin holds every role), or null for none. Refused (RG003):
-- UNAUTHENTICATED {via, reason: unknown | revoked | ended, tokenId?}, FORBIDDEN {requiredRole,
-- caller}.
CREATE FUNCTION regent_caller(p_credential jsonb, p_role text) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_caller jsonb;
  t api_tokens%ROWTYPE;
  s admin_sessions%ROWTYPE;
BEGIN
  CASE p_credential->>'kind'
    WHEN 'token' THEN
      SELECT * INTO t FROM api_tokens WHERE token_sha256 = p_credential->>'sha256';
      IF NOT FOUND THEN
        PERFORM regent_refuse_with('UNAUTHENTICATED', jsonb_build_object('via', 'token', 'reason', 'unknown'));
      END IF;
      IF t.revoked_at IS NOT NULL THEN
        PERFORM regent_refuse_with('UNAUTHENTICATED',
          jsonb_build_object('via', 'token', 'reason', 'revoked', 'tokenId', t.id));
      END IF;
      v_caller := jsonb_build_object('actor', 'token:' || t.id, 'roles', jsonb_build_array(t.role),
                                     'via', 'token', 'label', t.name, 'tokenId', t.id);
    WHEN 'session' THEN
      SELECT * INTO s FROM admin_sessions WHERE id = p_credential->>'id';
      IF FOUND THEN
        SELECT * INTO t FROM api_tokens WHERE id = s.token_id;
      END IF;
      IF s.id IS NULL OR s.ended_at IS NOT NULL OR s.expires_at <= now() OR t.revoked_at IS NOT NULL THEN
        PERFORM regent_refuse_with('UNAUTHENTICATED', jsonb_build_object('via', 'session', 'reason', 'ended'));
      END IF;
      v_caller := jsonb_build_object('actor', 'token:' || t.id, 'roles', jsonb_build_array(t.role),
                                     'via', 'session', 'label', t.name, 'tokenId', t.id,
                                     'sessionId', s.id, 'expiresAt', regent_iso(s.expires_at));
    WHEN 'known' THEN
      v_caller := p_credential->'principal';
    ELSE
      RAISE EXCEPTION 'no credential of kind %', p_credential->>'kind' USING ERRCODE = 'RG001';
  END CASE;
  IF p_role IS NOT NULL AND NOT (v_caller->'roles' ? 'admin' OR v_caller->'roles' ? p_role) THEN
    PERFORM regent_refuse_with('FORBIDDEN', jsonb_build_object('requiredRole', p_role, 'caller', v_caller));
  END IF;
  RETURN v_caller;
END $$;

GRANT EXECUTE ON FUNCTION regent_caller(jsonb, text) TO regent_app;
