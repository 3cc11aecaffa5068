-- At commit: what a statement left unmet is met by now, or the transaction fails. The row has
-- served its purpose then and goes, as its owner: the application role may not delete.
CREATE FUNCTION regent_commit_check() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM regent_require(NEW.subject_ids, NEW.event_types, NEW.output_job_ids, NEW.completed_job_ids, true);
  DELETE FROM commit_checks WHERE id = NEW.id;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER commit_checks_at_commit AFTER INSERT ON commit_checks
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION regent_commit_check();
