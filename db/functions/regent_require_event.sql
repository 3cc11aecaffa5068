-- The audit event of one row's change, in this transaction: the commit-time checks of intents
-- and batches, which run once per row, ask for one event each. regent_require asks for many
-- at once for a statement; this one is its single-row case without the planner settings that
-- a set of subjects needs (per row they cost more than the probe: a batch of 1,000 intents
-- took 60 ms longer to approve through regent_require).
CREATE FUNCTION regent_require_event(p_type text, p_subject_id text) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM audit_events
    WHERE subject_id = p_subject_id AND type = p_type AND tx_id = pg_current_xact_id()
  ) THEN
    RAISE EXCEPTION 'every change is audited in its own transaction: no % event for %', p_type, p_subject_id
      USING ERRCODE = 'RG002';
  END IF;
END $$;

GRANT EXECUTE ON FUNCTION regent_require_event(text, text) TO regent_app;
