-- A row that changes only by setting one column (the trigger's argument), once: a token is
-- only revoked (revoked_at), an admin session only ends (ended_at). Nothing else on the row
-- changes, and a set column is never set again.
CREATE FUNCTION regent_set_once() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_column constant text := TG_ARGV[0];
BEGIN
  IF to_jsonb(OLD)->v_column <> 'null'::jsonb OR to_jsonb(NEW)->v_column = 'null'::jsonb
     OR (to_jsonb(NEW) - v_column) IS DISTINCT FROM (to_jsonb(OLD) - v_column) THEN
    RAISE EXCEPTION '% changes only by setting %, once (%)', TG_TABLE_NAME, v_column, OLD.id
      USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER api_tokens_update_guard BEFORE UPDATE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION regent_set_once('revoked_at');
CREATE TRIGGER admin_sessions_update_guard BEFORE UPDATE ON admin_sessions
  FOR EACH ROW EXECUTE FUNCTION regent_set_once('ended_at');
