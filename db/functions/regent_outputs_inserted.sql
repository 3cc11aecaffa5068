-- New outputs, per statement: written only for a job being completed (RUNNING, or COMPLETED by
-- this same statement), and committed only with that job COMPLETED.
CREATE FUNCTION regent_outputs_inserted() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
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

CREATE TRIGGER regeneration_outputs_inserted_check AFTER INSERT ON regeneration_outputs
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION regent_outputs_inserted();
