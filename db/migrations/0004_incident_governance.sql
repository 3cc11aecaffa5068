CREATE TABLE "retry_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"filter" jsonb NOT NULL,
	"reason_code" "retry_reason_code" NOT NULL,
	"reason_text" text NOT NULL,
	"approved_by" text NOT NULL,
	"approved_at" timestamp with time zone DEFAULT now() NOT NULL,
	"job_count" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "retry_batches_reason_text_length" CHECK (char_length(btrim("retry_batches"."reason_text")) BETWEEN 1 AND 2000),
	CONSTRAINT "retry_batches_approved_by_nonempty" CHECK (length(btrim("retry_batches"."approved_by")) > 0),
	CONSTRAINT "retry_batches_job_count_positive" CHECK ("retry_batches"."job_count" > 0)
);
--> statement-breakpoint
ALTER TABLE "retry_intents" ADD COLUMN "batch_id" text;--> statement-breakpoint
ALTER TABLE "retry_intents" ADD COLUMN "budget_override" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "retry_intents" ADD COLUMN "expires_at" timestamp with time zone DEFAULT now() + interval '72 hours' NOT NULL;--> statement-breakpoint
CREATE INDEX "retry_batches_created_idx" ON "retry_batches" USING btree ("created_at","id");--> statement-breakpoint
ALTER TABLE "retry_intents" ADD CONSTRAINT "retry_intents_batch_id_retry_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."retry_batches"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "regeneration_jobs_failed_idx" ON "regeneration_jobs" USING btree ("finished_at","id") WHERE "regeneration_jobs"."status" = 'FAILED';--> statement-breakpoint
CREATE INDEX "retry_intents_batch_idx" ON "retry_intents" USING btree ("batch_id","id") WHERE "retry_intents"."batch_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "retry_intents_pending_expiry_idx" ON "retry_intents" USING btree ("expires_at") WHERE "retry_intents"."status" = 'PENDING';--> statement-breakpoint
ALTER TABLE "retry_intents" ADD CONSTRAINT "retry_intents_expiry_window" CHECK ("retry_intents"."expires_at" > "retry_intents"."approved_at");--> statement-breakpoint
ALTER TABLE "retry_intents" ADD CONSTRAINT "retry_intents_override_reason" CHECK (NOT "retry_intents"."budget_override" OR "retry_intents"."reason_code" = 'OTHER');--> statement-breakpoint

-- Retry batches, the retry budget and intent expiry, enforced by the database as well as the
-- domain. Refusals raise RG001 (a forbidden change) or RG002 (a change without its audit event).

-- A batch is one decision, frozen when it is approved: insert-only, committed with its event
-- and with exactly the intents it counts.
CREATE TRIGGER retry_batches_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON retry_batches
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('retry batches are insert-only');
--> statement-breakpoint
CREATE FUNCTION regent_batch_commit_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  intents integer;
BEGIN
  PERFORM regent_require_audit('RETRY_BATCH_CREATED', NEW.id);
  SELECT count(*) INTO intents FROM retry_intents WHERE batch_id = NEW.id;
  IF intents <> NEW.job_count THEN
    RAISE EXCEPTION 'a retry batch commits with exactly its % intents, not % (batch %)', NEW.job_count, intents, NEW.id
      USING ERRCODE = 'RG001';
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER retry_batches_commit_check AFTER INSERT ON retry_batches
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regent_batch_commit_check();
--> statement-breakpoint

-- The retry budget of a chain, as this session's `regent.retry_budget` says (the application
-- sets it from RETRY_BUDGET with the statement that locks the job); 3 for any other client.
CREATE FUNCTION regent_retry_budget() RETURNS integer LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('regent.retry_budget', true), ''), '3')::integer
$$;
--> statement-breakpoint

-- How many retries stand between a job and the original of its chain: 0 for an original.
CREATE FUNCTION regent_retry_depth(p_job_id text) RETURNS integer LANGUAGE sql STABLE AS $$
  WITH RECURSIVE up(id, retry_of) AS (
    SELECT id, retry_of_job_id FROM regeneration_jobs WHERE id = p_job_id
    UNION ALL
    SELECT j.id, j.retry_of_job_id FROM regeneration_jobs j JOIN up ON j.id = up.retry_of
  )
  SELECT (count(*) - 1)::integer FROM up
$$;
--> statement-breakpoint

-- Intents are born PENDING; a chain past its retry budget takes an explicit override (whose
-- reason code is OTHER, by a CHECK); an intent of a batch carries the batch's reason and approver.
CREATE OR REPLACE FUNCTION regent_intent_insert_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  depth integer;
  budget integer;
  batch retry_batches%ROWTYPE;
BEGIN
  IF NEW.status <> 'PENDING' THEN
    RAISE EXCEPTION 'a retry intent is created PENDING, not %', NEW.status USING ERRCODE = 'RG001';
  END IF;
  IF NOT NEW.budget_override THEN
    budget := regent_retry_budget();
    depth := regent_retry_depth(NEW.source_job_id);
    IF depth >= budget THEN
      RAISE EXCEPTION 'retry budget exhausted: job % is at retry depth % and the budget is %', NEW.source_job_id, depth, budget
        USING ERRCODE = 'RG001';
    END IF;
  END IF;
  IF NEW.batch_id IS NOT NULL THEN
    SELECT * INTO batch FROM retry_batches WHERE id = NEW.batch_id;
    IF FOUND AND (batch.reason_code <> NEW.reason_code OR batch.reason_text <> NEW.reason_text
                  OR batch.approved_by <> NEW.approved_by) THEN
      RAISE EXCEPTION 'an intent of a batch carries the batch''s reason and approver (batch %)', NEW.batch_id
        USING ERRCODE = 'RG001';
    END IF;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint

-- Only a PENDING intent changes, once, to CONSUMED or REJECTED, and nothing but its decision
-- columns changes with it (every other column, present or future, is compared). An expired
-- intent is never consumed; the system rejects only expired ones.
CREATE OR REPLACE FUNCTION regent_intent_update_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
--> statement-breakpoint

-- Checked at commit: as before, plus an intent joins a batch only in the transaction that
-- created the batch, and an expiry is audited as RETRY_INTENT_EXPIRED.
CREATE OR REPLACE FUNCTION regent_intent_commit_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  src_status job_status;
  retry_job text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM regent_require_audit('RETRY_INTENT_CREATED', NEW.id);
    IF NEW.batch_id IS NOT NULL THEN
      PERFORM regent_require_audit('RETRY_BATCH_CREATED', NEW.batch_id);
    END IF;
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
    PERFORM regent_require_audit(
      CASE WHEN NEW.rejected_by = 'system' THEN 'RETRY_INTENT_EXPIRED' ELSE 'RETRY_INTENT_REJECTED' END,
      NEW.id);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint

-- What the application role may do with what this migration adds: write batches once and
-- read them; compute depths and budgets. Trigger functions are for triggers only.
GRANT SELECT, INSERT ON retry_batches TO regent_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION regent_batch_commit_check(), regent_retry_budget(), regent_retry_depth(text)
FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION regent_retry_budget(), regent_retry_depth(text) TO regent_app;
