-- A batch's intents by status: {pending, consumed, rejected}.
CREATE FUNCTION regent_batch_counts(p_batch_id text) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT jsonb_build_object(
    'pending', count(*) FILTER (WHERE status = 'PENDING'),
    'consumed', count(*) FILTER (WHERE status = 'CONSUMED'),
    'rejected', count(*) FILTER (WHERE status = 'REJECTED'))
  FROM retry_intents WHERE batch_id = p_batch_id
$$;

GRANT EXECUTE ON FUNCTION regent_batch_counts(text) TO regent_app;
