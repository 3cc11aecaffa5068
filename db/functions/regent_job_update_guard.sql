-- Identity, input and lineage never change; status moves forward only; a finished job is
-- frozen; a claim is never taken over. PostgreSQL calls the function only for a row it would
-- refuse: the trigger's WHEN clause is the very condition under which it raises (keep the two
-- alike), so the worker's batches never enter PL/pgSQL here.
CREATE FUNCTION regent_job_update_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF OLD.status IN ('COMPLETED', 'FAILED') THEN
    RAISE EXCEPTION 'a finished job never changes: job % is %', OLD.id, OLD.status USING ERRCODE = 'RG001';
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.generator IS DISTINCT FROM OLD.generator
     OR NEW.input IS DISTINCT FROM OLD.input OR NEW.retry_of_job_id IS DISTINCT FROM OLD.retry_of_job_id
     OR NEW.retry_intent_id IS DISTINCT FROM OLD.retry_intent_id OR NEW.created_by IS DISTINCT FROM OLD.created_by
     OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'a job''s identity, input and lineage never change (job %)', OLD.id USING ERRCODE = 'RG001';
  END IF;
  IF NOT (
    (OLD.status = NEW.status)
    OR (OLD.status = 'PENDING' AND NEW.status IN ('RUNNING', 'FAILED'))
    OR (OLD.status = 'RUNNING' AND NEW.status IN ('COMPLETED', 'FAILED'))
  ) THEN
    RAISE EXCEPTION 'job status moves forward only: % -> % refused (job %)', OLD.status, NEW.status, OLD.id
      USING ERRCODE = 'RG001';
  END IF;
  IF OLD.status = 'RUNNING' AND (NEW.claimed_by IS DISTINCT FROM OLD.claimed_by OR NEW.claimed_at IS DISTINCT FROM OLD.claimed_at) THEN
    RAISE EXCEPTION 'a claim is never taken over (job %)', OLD.id USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER regeneration_jobs_update_guard BEFORE UPDATE ON regeneration_jobs
  FOR EACH ROW WHEN (
    OLD.status IN ('COMPLETED', 'FAILED')
    OR NEW.id IS DISTINCT FROM OLD.id OR NEW.generator IS DISTINCT FROM OLD.generator
    OR NEW.input IS DISTINCT FROM OLD.input OR NEW.retry_of_job_id IS DISTINCT FROM OLD.retry_of_job_id
    OR NEW.retry_intent_id IS DISTINCT FROM OLD.retry_intent_id OR NEW.created_by IS DISTINCT FROM OLD.created_by
    OR NEW.created_at IS DISTINCT FROM OLD.created_at
    OR NOT (OLD.status = NEW.status
            OR (OLD.status = 'PENDING' AND NEW.status IN ('RUNNING', 'FAILED'))
            OR (OLD.status = 'RUNNING' AND NEW.status IN ('COMPLETED', 'FAILED')))
    OR (OLD.status = 'RUNNING' AND (NEW.claimed_by IS DISTINCT FROM OLD.claimed_by
                                    OR NEW.claimed_at IS DISTINCT FROM OLD.claimed_at)))
  EXECUTE FUNCTION regent_job_update_guard();
