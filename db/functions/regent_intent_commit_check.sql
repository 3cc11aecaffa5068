-- Checked at commit, with what other transactions committed meanwhile: an intent is for a job
-- without a successor yet, FAILED for a RETRY and COMPLETED for a SUPERSEDE, and joins a batch only in the transaction that created the
-- batch; a consumed intent yielded its job; every step is audited (an expiry as
-- RETRY_INTENT_EXPIRED).
CREATE FUNCTION regent_intent_commit_check() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  src_status job_status;
  retry_job text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM regent_require_event('RETRY_INTENT_CREATED', NEW.id);
    IF NEW.batch_id IS NOT NULL THEN
      PERFORM regent_require_event('RETRY_BATCH_CREATED', NEW.batch_id);
    END IF;
    SELECT status INTO src_status FROM regeneration_jobs WHERE id = NEW.source_job_id;
    IF src_status IS DISTINCT FROM (CASE NEW.kind WHEN 'SUPERSEDE' THEN 'COMPLETED' ELSE 'FAILED' END)::job_status THEN
      RAISE EXCEPTION 'a % intent is for a % job: % is %', NEW.kind,
        CASE NEW.kind WHEN 'SUPERSEDE' THEN 'COMPLETED' ELSE 'FAILED' END,
        NEW.source_job_id, coalesce(src_status::text, 'missing') USING ERRCODE = 'RG001';
    END IF;
    SELECT id INTO retry_job FROM regeneration_jobs
    WHERE retry_of_job_id = NEW.source_job_id AND retry_intent_id <> NEW.id;
    IF retry_job IS NOT NULL THEN
      RAISE EXCEPTION 'job % was already retried by job %', NEW.source_job_id, retry_job USING ERRCODE = 'RG001';
    END IF;
  ELSIF NEW.status = 'CONSUMED' THEN
    PERFORM regent_require_event('RETRY_INTENT_CONSUMED', NEW.id);
    IF NOT EXISTS (SELECT 1 FROM regeneration_jobs WHERE retry_intent_id = NEW.id) THEN
      RAISE EXCEPTION 'a consumed retry intent yields its job (intent %)', NEW.id USING ERRCODE = 'RG001';
    END IF;
  ELSIF NEW.status = 'REJECTED' THEN
    PERFORM regent_require_event(
      CASE WHEN NEW.rejected_by = 'system' THEN 'RETRY_INTENT_EXPIRED' ELSE 'RETRY_INTENT_REJECTED' END, NEW.id);
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER retry_intents_insert_commit_check AFTER INSERT ON retry_intents
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regent_intent_commit_check();
CREATE CONSTRAINT TRIGGER retry_intents_status_commit_check AFTER UPDATE ON retry_intents
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION regent_intent_commit_check();
