-- Ends a session ({ctx, sessionId}, its caller settled by regent_authorized) once, with
-- ADMIN_SIGNED_OUT; an ended one is left as it is (false). SECURITY DEFINER, as regent_start_admin_session.
CREATE FUNCTION regent_end_admin_session(p jsonb) RETURNS boolean LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_token_id text;
BEGIN
  p := regent_authorized(p);
  UPDATE admin_sessions SET ended_at = now() WHERE id = p->>'sessionId' AND ended_at IS NULL
  RETURNING token_id INTO v_token_id;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM regent_audit(p->'ctx', jsonb_build_array(jsonb_build_object(
    'type', 'ADMIN_SIGNED_OUT', 'subjectType', 'admin_session', 'subjectId', p->>'sessionId',
    'data', jsonb_build_object('via', 'token', 'tokenId', v_token_id))));
  RETURN true;
END $$;

GRANT EXECUTE ON FUNCTION regent_end_admin_session(jsonb) TO regent_app;
