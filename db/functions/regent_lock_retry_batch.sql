-- A batch, held for the rest of the transaction: executes and rejects of one batch run one
-- after the other (a transaction-level advisory lock: a row lock would need UPDATE on an
-- insert-only table). Refused: BATCH_NOT_FOUND.
CREATE FUNCTION regent_lock_retry_batch(p_batch_id text) RETURNS retry_batches LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  b retry_batches%ROWTYPE;
BEGIN
  SELECT * INTO b FROM retry_batches WHERE id = p_batch_id;
  IF NOT FOUND THEN
    PERFORM regent_refuse_with('BATCH_NOT_FOUND', jsonb_build_object('batchId', p_batch_id));
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('regent.retry_batch:' || p_batch_id, 0));
  RETURN b;
END $$;

GRANT EXECUTE ON FUNCTION regent_lock_retry_batch(text) TO regent_app;
