-- A session only ends, once; nothing else about it changes.
CREATE FUNCTION regent_session_update_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF OLD.ended_at IS NOT NULL OR NEW.ended_at IS NULL
     OR (to_jsonb(NEW) - 'ended_at') IS DISTINCT FROM (to_jsonb(OLD) - 'ended_at') THEN
    RAISE EXCEPTION 'an admin session changes only by ending, once (session %)', OLD.id USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER admin_sessions_update_guard BEFORE UPDATE ON admin_sessions
  FOR EACH ROW EXECUTE FUNCTION regent_session_update_guard();
