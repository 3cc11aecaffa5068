-- Regent's invariants, enforced by the database itself (DESIGN §1, §2).
-- The application checks the same rules first and answers with clear 4xx errors; these
-- triggers make sure that a bug, a second client or a hand-typed statement cannot break them.
-- Every refusal raises SQLSTATE RG001 (a forbidden change) or RG002 (a change without its
-- audit event) with a message that names the rule.

-- Refuse the statement outright; TG_ARGV[0] names the rule.
CREATE FUNCTION regent_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%: % on % refused', TG_ARGV[0], TG_OP, TG_TABLE_NAME USING ERRCODE = 'RG001';
END $$;
--> statement-breakpoint

-- Outputs and audit events are insert-only. Statement-level triggers refuse even an UPDATE
-- or DELETE that matches no row, so no such statement ever succeeds.
CREATE TRIGGER regeneration_outputs_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON regeneration_outputs
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('regeneration outputs are insert-only');
--> statement-breakpoint
CREATE TRIGGER audit_events_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('audit events are insert-only');
--> statement-breakpoint
CREATE TRIGGER regeneration_jobs_never_deleted BEFORE DELETE OR TRUNCATE ON regeneration_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('regeneration jobs are never deleted');
--> statement-breakpoint
CREATE TRIGGER retry_intents_never_deleted BEFORE DELETE OR TRUNCATE ON retry_intents
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('retry intents are never deleted');
--> statement-breakpoint
CREATE TRIGGER api_tokens_never_deleted BEFORE DELETE OR TRUNCATE ON api_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('api tokens are revoked, never deleted');
--> statement-breakpoint

-- The transaction id of an audit event is the writer's own, whatever the client sent.
CREATE FUNCTION regent_audit_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.tx_id := pg_current_xact_id();
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_events_stamp BEFORE INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION regent_audit_stamp();
--> statement-breakpoint

-- A change must come with its audit event, written in the same transaction.
CREATE FUNCTION regent_require_audit(p_type text, p_subject_id text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM audit_events
    WHERE subject_id = p_subject_id AND type = p_type AND tx_id = pg_current_xact_id()
  ) THEN
    RAISE EXCEPTION 'every change is audited in its own transaction: no % event for %', p_type, p_subject_id
      USING ERRCODE = 'RG002';
  END IF;
END $$;
--> statement-breakpoint

-- Jobs are born PENDING. A retry job must come from a CONSUMED intent for a FAILED job and
-- carry that job's generator and input unchanged.
CREATE FUNCTION regent_job_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  src regeneration_jobs%ROWTYPE;
  intent retry_intents%ROWTYPE;
BEGIN
  IF NEW.status <> 'PENDING' THEN
    RAISE EXCEPTION 'a job is created PENDING, not %', NEW.status USING ERRCODE = 'RG001';
  END IF;
  IF NEW.retry_of_job_id IS NOT NULL THEN
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
--> statement-breakpoint
CREATE TRIGGER regeneration_jobs_insert_guard BEFORE INSERT ON regeneration_jobs
  FOR EACH ROW EXECUTE FUNCTION regent_job_insert_guard();
--> statement-breakpoint

-- Identity, input and lineage never change; status moves forward only; a finished job is frozen;
-- a claim is never taken over.
CREATE FUNCTION regent_job_update_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
--> statement-breakpoint
CREATE TRIGGER regeneration_jobs_update_guard BEFORE UPDATE ON regeneration_jobs
  FOR EACH ROW EXECUTE FUNCTION regent_job_update_guard();
--> statement-breakpoint

-- Checked at commit: the job's audit events, and that a COMPLETED job has its output.
CREATE FUNCTION regent_job_commit_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM regent_require_audit('JOB_CREATED', NEW.id);
    IF NEW.retry_of_job_id IS NOT NULL THEN
      PERFORM regent_require_audit('REGEN_JOB_RETRIED', NEW.retry_of_job_id);
    END IF;
  ELSIF NEW.status = 'RUNNING' THEN
    PERFORM regent_require_audit('JOB_CLAIMED', NEW.id);
  ELSIF NEW.status = 'COMPLETED' THEN
    PERFORM regent_require_audit('JOB_COMPLETED', NEW.id);
    IF NOT EXISTS (SELECT 1 FROM regeneration_outputs WHERE job_id = NEW.id) THEN
      RAISE EXCEPTION 'a COMPLETED job has its output (job %)', NEW.id USING ERRCODE = 'RG001';
    END IF;
  ELSIF NEW.status = 'FAILED' THEN
    PERFORM regent_require_audit('JOB_FAILED', NEW.id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER regeneration_jobs_insert_commit_check AFTER INSERT ON regeneration_jobs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regent_job_commit_check();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER regeneration_jobs_status_commit_check AFTER UPDATE ON regeneration_jobs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION regent_job_commit_check();
--> statement-breakpoint

-- An output belongs to a job that is being completed; at commit that job is COMPLETED.
CREATE FUNCTION regent_output_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  job_status_now job_status;
BEGIN
  SELECT status INTO job_status_now FROM regeneration_jobs WHERE id = NEW.job_id;
  IF TG_WHEN = 'BEFORE' THEN
    IF job_status_now IS NULL OR job_status_now NOT IN ('RUNNING', 'COMPLETED') THEN
      RAISE EXCEPTION 'an output is written only for a job being completed: job % is %', NEW.job_id,
        coalesce(job_status_now::text, 'missing') USING ERRCODE = 'RG001';
    END IF;
    RETURN NEW;
  END IF;
  IF job_status_now IS DISTINCT FROM 'COMPLETED' THEN
    RAISE EXCEPTION 'an output commits only with its job COMPLETED: job % is %', NEW.job_id,
      coalesce(job_status_now::text, 'missing') USING ERRCODE = 'RG001';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER regeneration_outputs_insert_guard BEFORE INSERT ON regeneration_outputs
  FOR EACH ROW EXECUTE FUNCTION regent_output_insert_guard();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER regeneration_outputs_commit_check AFTER INSERT ON regeneration_outputs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regent_output_insert_guard();
--> statement-breakpoint

-- Intents are born PENDING; only a PENDING intent changes, once, to CONSUMED or REJECTED,
-- and nothing else on the row changes with it.
CREATE FUNCTION regent_intent_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status <> 'PENDING' THEN
    RAISE EXCEPTION 'a retry intent is created PENDING, not %', NEW.status USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER retry_intents_insert_guard BEFORE INSERT ON retry_intents
  FOR EACH ROW EXECUTE FUNCTION regent_intent_insert_guard();
--> statement-breakpoint
CREATE FUNCTION regent_intent_update_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status <> 'PENDING' THEN
    RAISE EXCEPTION 'a % retry intent never changes (intent %)', OLD.status, OLD.id USING ERRCODE = 'RG001';
  END IF;
  IF NEW.status NOT IN ('CONSUMED', 'REJECTED') THEN
    RAISE EXCEPTION 'a PENDING retry intent changes only to CONSUMED or REJECTED, not % (intent %)', NEW.status, OLD.id
      USING ERRCODE = 'RG001';
  END IF;
  IF NEW.id IS DISTINCT FROM OLD.id OR NEW.source_job_id IS DISTINCT FROM OLD.source_job_id
     OR NEW.source_output_ref IS DISTINCT FROM OLD.source_output_ref OR NEW.reason_code IS DISTINCT FROM OLD.reason_code
     OR NEW.reason_text IS DISTINCT FROM OLD.reason_text OR NEW.approved_by IS DISTINCT FROM OLD.approved_by
     OR NEW.approved_at IS DISTINCT FROM OLD.approved_at OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'a retry intent''s request and approval never change (intent %)', OLD.id USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER retry_intents_update_guard BEFORE UPDATE ON retry_intents
  FOR EACH ROW EXECUTE FUNCTION regent_intent_update_guard();
--> statement-breakpoint

-- Checked at commit, with what other transactions committed meanwhile: an intent is for a
-- FAILED job not yet retried; a consumed intent yielded exactly one job; every step is audited.
CREATE FUNCTION regent_intent_commit_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  src_status job_status;
  retry_job text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM regent_require_audit('RETRY_INTENT_CREATED', NEW.id);
    SELECT status INTO src_status FROM regeneration_jobs WHERE id = NEW.source_job_id;
    IF src_status IS DISTINCT FROM 'FAILED' THEN
      RAISE EXCEPTION 'a retry intent is for a FAILED job: % is %', NEW.source_job_id, coalesce(src_status::text, 'missing')
        USING ERRCODE = 'RG001';
    END IF;
    SELECT id INTO retry_job FROM regeneration_jobs
    WHERE retry_of_job_id = NEW.source_job_id AND retry_intent_id <> NEW.id;
    IF retry_job IS NOT NULL THEN
      RAISE EXCEPTION 'job % was already retried by job %', NEW.source_job_id, retry_job USING ERRCODE = 'RG001';
    END IF;
  ELSIF NEW.status = 'CONSUMED' THEN
    PERFORM regent_require_audit('RETRY_INTENT_CONSUMED', NEW.id);
    IF NOT EXISTS (SELECT 1 FROM regeneration_jobs WHERE retry_intent_id = NEW.id) THEN
      RAISE EXCEPTION 'a consumed retry intent yields its job (intent %)', NEW.id USING ERRCODE = 'RG001';
    END IF;
  ELSIF NEW.status = 'REJECTED' THEN
    PERFORM regent_require_audit('RETRY_INTENT_REJECTED', NEW.id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER retry_intents_insert_commit_check AFTER INSERT ON retry_intents
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regent_intent_commit_check();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER retry_intents_status_commit_check AFTER UPDATE ON retry_intents
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION regent_intent_commit_check();
--> statement-breakpoint

-- A token is only ever revoked, once; nothing else about it changes.
CREATE FUNCTION regent_token_update_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
     OR (to_jsonb(NEW) - 'revoked_at') IS DISTINCT FROM (to_jsonb(OLD) - 'revoked_at') THEN
    RAISE EXCEPTION 'an api token changes only by being revoked, once (token %)', OLD.id USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER api_tokens_update_guard BEFORE UPDATE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION regent_token_update_guard();
