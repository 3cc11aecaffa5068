-- Only a PENDING intent changes, once, to CONSUMED or REJECTED, and nothing but its decision
-- columns changes with it (every other column, present or future, is compared). An expired
-- intent is never consumed; the system rejects only expired ones.
CREATE FUNCTION regent_intent_update_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  decision constant text[] := ARRAY['status', 'consumed_by', 'consumed_at', 'rejected_by', 'rejected_at', 'rejection_text'];
BEGIN
  IF OLD.status <> 'PENDING' THEN
    RAISE EXCEPTION 'a % retry intent never changes (intent %)', OLD.status, OLD.id USING ERRCODE = 'RG001';
  END IF;
  IF NEW.status NOT IN ('CONSUMED', 'REJECTED') THEN
    RAISE EXCEPTION 'a PENDING retry intent changes only to CONSUMED or REJECTED, not % (intent %)', NEW.status, OLD.id
      USING ERRCODE = 'RG001';
  END IF;
  IF (to_jsonb(NEW) - decision) IS DISTINCT FROM (to_jsonb(OLD) - decision) THEN
    RAISE EXCEPTION 'a retry intent''s request and approval never change (intent %)', OLD.id USING ERRCODE = 'RG001';
  END IF;
  IF NEW.status = 'CONSUMED' AND OLD.expires_at <= statement_timestamp() THEN
    RAISE EXCEPTION 'retry intent % expired at % and cannot be executed', OLD.id, OLD.expires_at USING ERRCODE = 'RG001';
  END IF;
  IF NEW.status = 'REJECTED' AND NEW.rejected_by = 'system' AND OLD.expires_at > statement_timestamp() THEN
    RAISE EXCEPTION 'the system rejects only expired intents; % expires at %', OLD.id, OLD.expires_at USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER retry_intents_update_guard BEFORE UPDATE ON retry_intents
  FOR EACH ROW EXECUTE FUNCTION regent_intent_update_guard();
