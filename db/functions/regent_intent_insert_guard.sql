-- Intents are born PENDING, approved now or before (never later), and expire within the
-- policy's longest lifetime after their approval. A chain past the policy's retry budget takes
-- an explicit override (whose reason code is OTHER, by a CHECK). An intent of a batch carries
-- the batch's reason and approver.
CREATE FUNCTION regent_intent_insert_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  policy regent_policy%ROWTYPE := regent_policy();
  depth integer;
  batch retry_batches%ROWTYPE;
BEGIN
  IF NEW.status <> 'PENDING' THEN
    RAISE EXCEPTION 'a retry intent is created PENDING, not %', NEW.status USING ERRCODE = 'RG001';
  END IF;
  IF NEW.approved_at > now() THEN
    RAISE EXCEPTION 'a retry intent is approved now, not at % (intent %)', NEW.approved_at, NEW.id
      USING ERRCODE = 'RG001';
  END IF;
  IF NEW.expires_at > NEW.approved_at + make_interval(hours => policy.intent_ttl_max_hours) THEN
    RAISE EXCEPTION 'a retry intent expires within % hours of its approval, not at % (intent %)',
      policy.intent_ttl_max_hours, NEW.expires_at, NEW.id USING ERRCODE = 'RG001';
  END IF;
  IF NOT NEW.budget_override THEN
    depth := regent_retry_depth(NEW.source_job_id);
    IF depth >= policy.retry_budget THEN
      RAISE EXCEPTION 'retry budget exhausted: job % is at retry depth % and the budget is %',
        NEW.source_job_id, depth, policy.retry_budget USING ERRCODE = 'RG001';
    END IF;
  END IF;
  IF NEW.batch_id IS NOT NULL THEN
    SELECT * INTO batch FROM retry_batches WHERE id = NEW.batch_id;
    IF FOUND AND (batch.reason_code <> NEW.reason_code OR batch.reason_text <> NEW.reason_text
                  OR batch.approved_by <> NEW.approved_by OR batch.kind <> NEW.kind) THEN
      RAISE EXCEPTION 'an intent of a batch carries the batch''s reason and approver, and its kind (batch %)', NEW.batch_id
        USING ERRCODE = 'RG001';
    END IF;
    IF NEW.input IS NOT NULL THEN
      RAISE EXCEPTION 'an intent of a batch runs its job''s own input: a corrected input is approved one job at a time (batch %)', NEW.batch_id
        USING ERRCODE = 'RG001';
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER retry_intents_insert_guard BEFORE INSERT ON retry_intents
  FOR EACH ROW EXECUTE FUNCTION regent_intent_insert_guard();
