-- New retry intents, per statement: one tally row per status, kind and reason code added to.
CREATE FUNCTION regent_tally_intents_inserted() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO tallies (subject, status, kind, reason, count)
  SELECT 'intent', n.status::text, n.kind::text, n.reason_code::text, count(*)
  FROM inserted n GROUP BY 2, 3, 4;
  RETURN NULL;
END $$;

CREATE TRIGGER retry_intents_tally_inserted AFTER INSERT ON retry_intents
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION regent_tally_intents_inserted();
