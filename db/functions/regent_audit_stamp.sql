-- The transaction id of an audit event is the writer's own, whatever the client sent. The
-- WHEN clause, evaluated without entering PL/pgSQL, calls the function only for a row whose
-- client sent another id than the column's default.
CREATE FUNCTION regent_audit_stamp() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  NEW.tx_id := pg_current_xact_id();
  RETURN NEW;
END $$;

CREATE TRIGGER audit_events_stamp BEFORE INSERT ON audit_events
  FOR EACH ROW WHEN (NEW.tx_id IS DISTINCT FROM pg_current_xact_id())
  EXECUTE FUNCTION regent_audit_stamp();
