-- Starts an admin page session ({ctx, sessionId, tokenId}) for a live token just
-- verified, for eight hours (a working day: signing in again is cheap, and a stolen cookie
-- ages out), with ADMIN_SIGNED_IN. The only writer of admin_sessions with
-- regent_end_admin_session: SECURITY DEFINER, so the application role cannot start a session
-- without its event, nor for a revoked token, nor one longer than this. Returns {id, expiresAt}.
CREATE FUNCTION regent_start_admin_session(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  s admin_sessions%ROWTYPE;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM api_tokens WHERE id = p->>'tokenId' AND revoked_at IS NULL) THEN
    RAISE EXCEPTION 'an admin session is started for a live token, not %', p->>'tokenId'
      USING ERRCODE = 'RG001';
  END IF;
  INSERT INTO admin_sessions (id, token_id, expires_at)
  VALUES (p->>'sessionId', p->>'tokenId', now() + interval '8 hours')
  RETURNING * INTO s;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'ADMIN_SIGNED_IN', 'subjectType', 'admin_session', 'subjectId', s.id,
    'data', jsonb_build_object('via', 'token', 'tokenId', s.token_id, 'expiresAt', regent_iso(s.expires_at)))));
  RETURN jsonb_build_object('id', s.id, 'expiresAt', regent_iso(s.expires_at));
END $$;

GRANT EXECUTE ON FUNCTION regent_start_admin_session(jsonb) TO regent_app;
