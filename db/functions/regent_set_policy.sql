-- Writes the policy from the configuration ({retryBudget, intentTtlHours, intentTtlMaxHours,
-- requireDistinctExecutor, retryBatchMax}; a field left out keeps its value), with a
-- POLICY_CHANGED event naming what changed. The owner's alone: never granted to regent_app.
CREATE FUNCTION regent_set_policy(p jsonb, p_actor text DEFAULT 'system:migrate') RETURNS regent_policy
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  old regent_policy%ROWTYPE := regent_policy();
  new regent_policy%ROWTYPE;
BEGIN
  UPDATE regent_policy SET
    retry_budget = coalesce((p->>'retryBudget')::integer, retry_budget),
    intent_ttl_hours = coalesce((p->>'intentTtlHours')::integer, intent_ttl_hours),
    intent_ttl_max_hours = coalesce((p->>'intentTtlMaxHours')::integer, intent_ttl_max_hours),
    require_distinct_executor = coalesce((p->>'requireDistinctExecutor')::boolean, require_distinct_executor),
    retry_batch_max = coalesce((p->>'retryBatchMax')::integer, retry_batch_max),
    updated_at = now()
  WHERE singleton
  RETURNING * INTO new;
  IF (to_jsonb(new) - 'updated_at') IS DISTINCT FROM (to_jsonb(old) - 'updated_at') THEN
    PERFORM regent_audit(jsonb_build_object('actor', p_actor), jsonb_build_array(jsonb_build_object(
      'type', 'POLICY_CHANGED', 'subjectType', 'policy', 'subjectId', 'regent_policy',
      'data', jsonb_build_object('before', to_jsonb(old) - 'singleton' - 'updated_at',
                                 'after', to_jsonb(new) - 'singleton' - 'updated_at'))));
  END IF;
  RETURN new;
END $$;
