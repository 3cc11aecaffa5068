-- A batch is one decision, frozen when it is approved: committed with its event and with
-- exactly the intents it counts.
CREATE FUNCTION regent_batch_commit_check() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  intents integer;
BEGIN
  PERFORM regent_require_event('RETRY_BATCH_CREATED', NEW.id);
  SELECT count(*) INTO intents FROM retry_intents WHERE batch_id = NEW.id;
  IF intents <> NEW.job_count THEN
    RAISE EXCEPTION 'a retry batch commits with exactly its % intents, not % (batch %)', NEW.job_count, intents, NEW.id
      USING ERRCODE = 'RG001';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER retry_batches_commit_check AFTER INSERT ON retry_batches
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regent_batch_commit_check();
