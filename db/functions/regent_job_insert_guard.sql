-- Jobs are born PENDING. An original job runs a generator of the catalog. A successor (a retry
-- or a supersession) comes from its own CONSUMED intent for its source job, FAILED for a RETRY
-- and COMPLETED for a SUPERSEDE, and runs the source's generator with the intent's corrected
-- input if it carries one, else the source's input.
CREATE FUNCTION regent_job_insert_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  src regeneration_jobs%ROWTYPE;
  intent retry_intents%ROWTYPE;
BEGIN
  IF NEW.status <> 'PENDING' THEN
    RAISE EXCEPTION 'a job is created PENDING, not %', NEW.status USING ERRCODE = 'RG001';
  END IF;
  IF NEW.retry_of_job_id IS NULL THEN
    IF NOT EXISTS (SELECT 1 FROM generators WHERE name = NEW.generator) THEN
      RAISE EXCEPTION 'no generator named % is in the catalog', NEW.generator USING ERRCODE = 'RG001';
    END IF;
  ELSE
    SELECT * INTO intent FROM retry_intents WHERE id = NEW.retry_intent_id;
    SELECT * INTO src FROM regeneration_jobs WHERE id = NEW.retry_of_job_id;
    -- Without its intent, a successor is taken for a retry: the status is the first thing wrong.
    IF coalesce(intent.kind, 'RETRY') = 'RETRY' AND src.status IS DISTINCT FROM 'FAILED' THEN
      RAISE EXCEPTION 'only a FAILED job is retried: % is %', NEW.retry_of_job_id, coalesce(src.status::text, 'missing')
        USING ERRCODE = 'RG001';
    END IF;
    IF intent.kind = 'SUPERSEDE' AND src.status IS DISTINCT FROM 'COMPLETED' THEN
      RAISE EXCEPTION 'only a COMPLETED job is superseded: % is %', NEW.retry_of_job_id, coalesce(src.status::text, 'missing')
        USING ERRCODE = 'RG001';
    END IF;
    IF intent.id IS NULL OR intent.status <> 'CONSUMED' OR intent.source_job_id <> NEW.retry_of_job_id THEN
      RAISE EXCEPTION 'a retry job needs its own consumed retry intent for job %', NEW.retry_of_job_id
        USING ERRCODE = 'RG001';
    END IF;
    IF NEW.generator <> src.generator THEN
      RAISE EXCEPTION 'a retry job runs the same generator and input as job % (the input corrected only by its intent)', NEW.retry_of_job_id
        USING ERRCODE = 'RG001';
    END IF;
    IF NEW.input <> coalesce(intent.input, src.input) THEN
      RAISE EXCEPTION '%', CASE WHEN intent.input IS NULL
        THEN format('a retry job runs the same generator and input as job %s', NEW.retry_of_job_id)
        ELSE format('a retry job runs the corrected input of its intent %s', intent.id) END
        USING ERRCODE = 'RG001';
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER regeneration_jobs_insert_guard BEFORE INSERT ON regeneration_jobs
  FOR EACH ROW EXECUTE FUNCTION regent_job_insert_guard();
