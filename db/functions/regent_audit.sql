-- Writes audit events for the caller p_ctx ({actor, requestId, ip, userAgent}), in the order
-- given: p_events is an array of {type, subjectType, subjectId, data}. The event's id, time
-- and transaction are the database's.
CREATE FUNCTION regent_audit(p_ctx jsonb, p_events jsonb) RETURNS void LANGUAGE sql VOLATILE
SET search_path = pg_catalog, public, pg_temp AS $$
  INSERT INTO audit_events (type, actor, subject_type, subject_id, data, request_id, ip, user_agent)
  SELECT e->>'type', p_ctx->>'actor', e->>'subjectType', e->>'subjectId', coalesce(e->'data', '{}'::jsonb),
         p_ctx->>'requestId', p_ctx->>'ip', p_ctx->>'userAgent'
  FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
  ORDER BY n
$$;

GRANT EXECUTE ON FUNCTION regent_audit(jsonb, jsonb) TO regent_app;
