-- Jobs are born PENDING. An original job runs a generator of the catalog. A retry job comes from a CONSUMED intent for its FAILED source job
-- and runs that job's generator and input unchanged.
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
    SELECT * INTO src FROM regeneration_jobs WHERE id = NEW.retry_of_job_id;
    IF NOT FOUND OR src.status <> 'FAILED' THEN
      RAISE EXCEPTION 'only a FAILED job is retried: % is %', NEW.retry_of_job_id, coalesce(src.status::text, 'missing')
        USING ERRCODE = 'RG001';
    END IF;
    SELECT * INTO intent FROM retry_intents WHERE id = NEW.retry_intent_id;
    IF NOT FOUND OR intent.status <> 'CONSUMED' OR intent.source_job_id <> NEW.retry_of_job_id THEN
      RAISE EXCEPTION 'a retry job needs its own consumed retry intent for job %', NEW.retry_of_job_id
        USING ERRCODE = 'RG001';
    END IF;
    IF NEW.generator <> src.generator OR NEW.input <> src.input THEN
      RAISE EXCEPTION 'a retry job runs the same generator and input as job %', NEW.retry_of_job_id
        USING ERRCODE = 'RG001';
    END IF;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER regeneration_jobs_insert_guard BEFORE INSERT ON regeneration_jobs
  FOR EACH ROW EXECUTE FUNCTION regent_job_insert_guard();
