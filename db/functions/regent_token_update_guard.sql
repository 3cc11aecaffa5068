-- A token is only ever revoked, once; nothing else about it changes.
CREATE FUNCTION regent_token_update_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
     OR (to_jsonb(NEW) - 'revoked_at') IS DISTINCT FROM (to_jsonb(OLD) - 'revoked_at') THEN
    RAISE EXCEPTION 'an api token changes only by being revoked, once (token %)', OLD.id USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER api_tokens_update_guard BEFORE UPDATE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION regent_token_update_guard();
