-- How many failed jobs a RETRY batch's filter matches that it leaves out because a person
-- rejected their newest intent (open_failures.decision 'rejected'): a decision a batch does not
-- undo. Read from the rejected range of open_failures' decision indexes; 0 for SUPERSEDE.
CREATE FUNCTION regent_batch_rejected(p_filter jsonb, p_kind retry_intent_kind DEFAULT 'RETRY')
RETURNS integer LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
-- Planned for each filter, as regent_batch_candidates is.
SET plan_cache_mode = force_custom_plan AS $$
  SELECT count(*)::integer FROM open_failures f
  WHERE p_kind = 'RETRY' AND f.decision = 'rejected'
    AND (p_filter->>'generator' IS NULL OR f.generator = p_filter->>'generator')
    AND (p_filter->>'errorCode' IS NULL OR f.error_code = p_filter->>'errorCode')
    AND (p_filter->>'failedAfter' IS NULL OR f.failed_at >= (p_filter->>'failedAfter')::timestamptz)
    AND (p_filter->>'failedBefore' IS NULL OR f.failed_at < (p_filter->>'failedBefore')::timestamptz)
$$;

GRANT EXECUTE ON FUNCTION regent_batch_rejected(jsonb, retry_intent_kind) TO regent_app;
