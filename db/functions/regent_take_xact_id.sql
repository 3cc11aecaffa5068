-- A seal's watermark is final once the transactions below its xmax have ended, which holds
-- only for a writer that had its transaction id before it drew an event id. nextval takes no
-- transaction id, so a writer whose first write this is could draw an id, be descheduled, and
-- get its transaction id after a seal recorded its xmax: the next seal would then cover an id
-- that commits later, and report it added. This runs before any row of the statement is built.
CREATE FUNCTION regent_take_xact_id() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM pg_current_xact_id();
  RETURN NULL;
END $$;

CREATE TRIGGER audit_events_xact_id_first BEFORE INSERT ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION regent_take_xact_id();
