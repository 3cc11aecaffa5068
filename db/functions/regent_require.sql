-- The requirements of a change still unmet in this transaction: an audit event of the given
-- type for each subject (written by this transaction), an output for each job, COMPLETED for
-- each job. With p_final the first unmet one is raised; otherwise the unmet ones are left to
-- commit in one commit_checks row (checked again by regent_commit_check).
--
-- One index probe per requirement whatever the statistics say: a batch's few hundred subjects
-- against a table of millions of events (a plan from a small table scanned it whole). No JIT:
-- the plans the switches leave cost 10^10 on paper, and compiling them took 160 ms a batch.
CREATE FUNCTION regent_require(p_subject_ids text[], p_event_types text[], p_output_job_ids text[],
                               p_completed_job_ids text[], p_final boolean)
RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
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

GRANT EXECUTE ON FUNCTION regent_require(text[], text[], text[], text[], boolean) TO regent_app;
