-- A retry intent as the API shows it.
CREATE FUNCTION regent_intent_json(i retry_intents) RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT jsonb_build_object(
    'id', i.id, 'sourceJobId', i.source_job_id, 'sourceOutputRef', i.source_output_ref,
    'reasonCode', i.reason_code, 'reasonText', i.reason_text, 'approvedBy', i.approved_by,
    'approvedAt', regent_iso(i.approved_at), 'status', i.status,
    'createdAt', regent_iso(i.created_at), 'consumedBy', i.consumed_by,
    'consumedAt', regent_iso(i.consumed_at), 'rejectedBy', i.rejected_by,
    'rejectedAt', regent_iso(i.rejected_at), 'rejectionText', i.rejection_text,
    'batchId', i.batch_id, 'budgetOverride', i.budget_override,
    'expiresAt', regent_iso(i.expires_at))
$$;

GRANT EXECUTE ON FUNCTION regent_intent_json(retry_intents) TO regent_app;
