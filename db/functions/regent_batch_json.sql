-- A retry batch as the API shows it.
CREATE FUNCTION regent_batch_json(b retry_batches) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT jsonb_build_object(
    'id', b.id, 'filter', b.filter, 'reasonCode', b.reason_code, 'reasonText', b.reason_text,
    'approvedBy', b.approved_by, 'approvedAt', regent_iso(b.approved_at),
    'jobCount', b.job_count, 'createdAt', regent_iso(b.created_at))
$$;

GRANT EXECUTE ON FUNCTION regent_batch_json(retry_batches) TO regent_app;
