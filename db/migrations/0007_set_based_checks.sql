CREATE TABLE "commit_checks" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "commit_checks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"subject_ids" text[] NOT NULL,
	"event_types" text[] NOT NULL,
	"output_job_ids" text[] NOT NULL,
	"completed_job_ids" text[] NOT NULL
);
--> statement-breakpoint

-- The commit-time checks of jobs and outputs, set-based. 0001 checked each changed row at
-- commit with a deferred row trigger: one PL/pgSQL call and one re-read of the row per job
-- and per output, about half of what a worker's batch cost the database. Now one trigger per
-- statement reads the statement's rows from its transition tables and checks them all in one
-- query. What the statement brought along itself (the worker claims and finishes a batch
-- with its events and outputs in one statement) is settled there: events and outputs are
-- insert-only and COMPLETED is final, so nothing later in the transaction can undo it without
-- undoing the statement too. What it did not bring (INSERT a job, then its event) becomes one
-- commit_checks row, checked at commit as before, with the same messages and SQLSTATEs.

-- The requirements still unmet in this transaction. Raises the first when p_final; otherwise
-- leaves the unmet ones to commit in one commit_checks row.
CREATE FUNCTION regent_require(p_subject_ids text[], p_event_types text[], p_output_job_ids text[],
                               p_completed_job_ids text[], p_final boolean)
RETURNS void LANGUAGE plpgsql
-- One index probe per requirement, whatever the statistics say: a batch's few hundred subjects
-- against a table of millions of events (a plan from a small table scanned it whole). No JIT:
-- the plans the switches leave cost 10^10 on paper, and compiling them took 160 ms a batch.
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET enable_material = off
SET jit = off
AS $$
DECLARE
  v_subjects text[];
  v_types text[];
  v_outputs text[];
  v_completed text[];
  v_status text;
BEGIN
  -- `e.type || ''`: the type is compared, not looked up, so no index on type can be chosen. On
  -- a table without statistics the planner probed (type, id) and filtered a whole type's
  -- events by subject, per requirement; by subject a probe reads the subject's few events.
  SELECT array_agg(r.subject_id), array_agg(r.type) INTO v_subjects, v_types
  FROM unnest(p_subject_ids, p_event_types) AS r(subject_id, type)
  WHERE NOT EXISTS (
    SELECT 1 FROM audit_events e
    WHERE e.subject_id = r.subject_id AND e.type || '' = r.type AND e.tx_id = pg_current_xact_id());
  SELECT array_agg(r.job_id) INTO v_outputs
  FROM unnest(p_output_job_ids) AS r(job_id)
  WHERE NOT EXISTS (SELECT 1 FROM regeneration_outputs o WHERE o.job_id = r.job_id);
  SELECT array_agg(r.job_id) INTO v_completed
  FROM unnest(p_completed_job_ids) AS r(job_id)
  -- By primary key: compared as an enum, the status led the planner into the status index.
  WHERE NOT EXISTS (SELECT 1 FROM regeneration_jobs j WHERE j.id = r.job_id AND j.status::text = 'COMPLETED');
  IF v_subjects IS NULL AND v_outputs IS NULL AND v_completed IS NULL THEN
    RETURN;
  END IF;
  IF NOT p_final THEN
    INSERT INTO commit_checks (subject_ids, event_types, output_job_ids, completed_job_ids)
    VALUES (coalesce(v_subjects, '{}'), coalesce(v_types, '{}'), coalesce(v_outputs, '{}'),
            coalesce(v_completed, '{}'));
    RETURN;
  END IF;
  IF v_subjects IS NOT NULL THEN
    RAISE EXCEPTION 'every change is audited in its own transaction: no % event for %', v_types[1], v_subjects[1]
      USING ERRCODE = 'RG002';
  END IF;
  IF v_outputs IS NOT NULL THEN
    RAISE EXCEPTION 'a COMPLETED job has its output (job %)', v_outputs[1] USING ERRCODE = 'RG001';
  END IF;
  SELECT status::text INTO v_status FROM regeneration_jobs WHERE id = v_completed[1];
  RAISE EXCEPTION 'an output commits only with its job COMPLETED: job % is %', v_completed[1],
    coalesce(v_status, 'missing') USING ERRCODE = 'RG001';
END $$;
--> statement-breakpoint

-- At commit: what a statement left unmet is met by now, or the transaction fails. The row has
-- served its purpose then and goes (as its owner: the application role may not delete).
CREATE FUNCTION regent_commit_check() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  PERFORM regent_require(NEW.subject_ids, NEW.event_types, NEW.output_job_ids, NEW.completed_job_ids, true);
  DELETE FROM commit_checks WHERE id = NEW.id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER commit_checks_at_commit AFTER INSERT ON commit_checks
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regent_commit_check();
--> statement-breakpoint
CREATE TRIGGER commit_checks_never_changed BEFORE UPDATE OR TRUNCATE ON commit_checks
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('commit checks are never changed');
--> statement-breakpoint

-- New jobs: each has its JOB_CREATED event, and a retry job its source's REGEN_JOB_RETRIED.
CREATE FUNCTION regent_jobs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_subjects text[];
  v_types text[];
BEGIN
  SELECT array_agg(r.subject_id), array_agg(r.type) INTO v_subjects, v_types FROM (
    SELECT id AS subject_id, 'JOB_CREATED' AS type FROM inserted
    UNION ALL
    SELECT retry_of_job_id, 'REGEN_JOB_RETRIED' FROM inserted WHERE retry_of_job_id IS NOT NULL) r;
  IF v_subjects IS NOT NULL THEN
    PERFORM regent_require(v_subjects, v_types, '{}', '{}', false);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER regeneration_jobs_inserted_check AFTER INSERT ON regeneration_jobs
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION regent_jobs_inserted();
--> statement-breakpoint

-- Status moves (the row guard allows only PENDING→RUNNING|FAILED and RUNNING→COMPLETED|FAILED):
-- each has its event, and a COMPLETED job its output. A lease renewal moves nothing.
-- The old and new rows of a statement are paired by id in a hash join (the guard keeps ids
-- unchanged): the plan is made once, and one made for a one-row statement would otherwise pair
-- a batch's rows by nested loop, 500 × 500.
CREATE FUNCTION regent_jobs_moved() RETURNS trigger LANGUAGE plpgsql
SET enable_nestloop = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
  v_subjects text[];
  v_types text[];
  v_completed text[];
BEGIN
  SELECT array_agg(n.id),
         array_agg(CASE n.status WHEN 'RUNNING' THEN 'JOB_CLAIMED' WHEN 'COMPLETED' THEN 'JOB_COMPLETED'
                                 ELSE 'JOB_FAILED' END),
         array_agg(n.id) FILTER (WHERE n.status = 'COMPLETED')
    INTO v_subjects, v_types, v_completed
  FROM moved_new n JOIN moved_old o ON o.id = n.id
  WHERE o.status IS DISTINCT FROM n.status;
  IF v_subjects IS NOT NULL THEN
    PERFORM regent_require(v_subjects, v_types, coalesce(v_completed, '{}'), '{}', false);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER regeneration_jobs_moved_check AFTER UPDATE ON regeneration_jobs
  REFERENCING OLD TABLE AS moved_old NEW TABLE AS moved_new
  FOR EACH STATEMENT EXECUTE FUNCTION regent_jobs_moved();
--> statement-breakpoint

-- New outputs: written only for a job being completed (RUNNING, or COMPLETED by this same
-- statement), and committed only with that job COMPLETED.
CREATE FUNCTION regent_outputs_inserted() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
  v_refused text[];
  v_statuses text[];
  v_running text[];
BEGIN
  SELECT array_agg(o.job_id) FILTER (WHERE j.status IS NULL OR j.status NOT IN ('RUNNING', 'COMPLETED')),
         array_agg(coalesce(j.status::text, 'missing')) FILTER (WHERE j.status IS NULL OR j.status NOT IN ('RUNNING', 'COMPLETED')),
         array_agg(o.job_id) FILTER (WHERE j.status = 'RUNNING')
    INTO v_refused, v_statuses, v_running
  FROM inserted o LEFT JOIN regeneration_jobs j ON j.id = o.job_id;
  IF v_refused IS NOT NULL THEN
    RAISE EXCEPTION 'an output is written only for a job being completed: job % is %', v_refused[1],
      v_statuses[1] USING ERRCODE = 'RG001';
  END IF;
  IF v_running IS NOT NULL THEN
    PERFORM regent_require('{}', '{}', '{}', v_running, false);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER regeneration_outputs_inserted_check AFTER INSERT ON regeneration_outputs
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION regent_outputs_inserted();
--> statement-breakpoint

DROP TRIGGER regeneration_jobs_insert_commit_check ON regeneration_jobs;
--> statement-breakpoint
DROP TRIGGER regeneration_jobs_status_commit_check ON regeneration_jobs;
--> statement-breakpoint
DROP TRIGGER regeneration_outputs_insert_guard ON regeneration_outputs;
--> statement-breakpoint
DROP TRIGGER regeneration_outputs_commit_check ON regeneration_outputs;
--> statement-breakpoint
DROP FUNCTION regent_job_commit_check();
--> statement-breakpoint
DROP FUNCTION regent_output_insert_guard();
--> statement-breakpoint

-- The row guards stay row guards, but PostgreSQL now calls their PL/pgSQL only for a row they
-- would refuse or change: the WHEN clause, evaluated without entering PL/pgSQL, is the very
-- condition under which regent_job_update_guard raises (keep the two alike), and an audit event
-- is stamped only when its client sent another transaction id than the column's default.
DROP TRIGGER regeneration_jobs_update_guard ON regeneration_jobs;
--> statement-breakpoint
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
--> statement-breakpoint
DROP TRIGGER audit_events_stamp ON audit_events;
--> statement-breakpoint
CREATE TRIGGER audit_events_stamp BEFORE INSERT ON audit_events
  FOR EACH ROW WHEN (NEW.tx_id IS DISTINCT FROM pg_current_xact_id())
  EXECUTE FUNCTION regent_audit_stamp();
--> statement-breakpoint

-- The application role writes commit_checks through the triggers (which run with its rights)
-- and never deletes: the commit-time check does that as the owner.
GRANT SELECT, INSERT ON commit_checks TO regent_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON SEQUENCE commit_checks_id_seq TO regent_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION regent_require(text[], text[], text[], text[], boolean), regent_commit_check(),
  regent_jobs_inserted(), regent_jobs_moved(), regent_outputs_inserted() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION regent_require(text[], text[], text[], text[], boolean) TO regent_app;
