-- New jobs, per statement: each has its JOB_CREATED event, and a successor its source's
-- REGEN_JOB_RETRIED (REGEN_JOB_SUPERSEDED for a supersession). What the statement did not bring itself is checked again at commit.
CREATE FUNCTION regent_jobs_inserted() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_subjects text[];
  v_types text[];
BEGIN
  SELECT array_agg(r.subject_id), array_agg(r.type) INTO v_subjects, v_types FROM (
    SELECT id AS subject_id, 'JOB_CREATED' AS type FROM inserted
    UNION ALL
    SELECT n.retry_of_job_id,
           CASE i.kind WHEN 'SUPERSEDE' THEN 'REGEN_JOB_SUPERSEDED' ELSE 'REGEN_JOB_RETRIED' END
    FROM inserted n LEFT JOIN retry_intents i ON i.id = n.retry_intent_id
    WHERE n.retry_of_job_id IS NOT NULL) r;
  IF v_subjects IS NOT NULL THEN
    PERFORM regent_require(v_subjects, v_types, '{}', '{}', false);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER regeneration_jobs_inserted_check AFTER INSERT ON regeneration_jobs
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION regent_jobs_inserted();
