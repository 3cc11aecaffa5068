-- The fingerprints of the audit events with ids in (p_from, p_to], in id order: every column,
-- in a fixed order, as JSON text, hashed with SHA-256. created_at is taken in UTC: a
-- timestamptz becomes JSON in the session's TimeZone, so a verifier whose client sets another
-- zone would otherwise find every event changed. A range at a time, because a function with a
-- pinned search_path is never inlined: called per event, it cost as much as the hashing.
CREATE FUNCTION regent_audit_hashes(p_from bigint, p_to bigint)
RETURNS TABLE (id bigint, hash bytea) LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT e.id, sha256(convert_to(jsonb_build_array(
    e.id, e.type, e.actor, e.subject_type, e.subject_id, e.data, e.request_id, e.ip, e.user_agent,
    e.created_at AT TIME ZONE 'UTC', e.tx_id::text)::text, 'UTF8'))
  FROM audit_events e WHERE e.id > p_from AND e.id <= p_to
  ORDER BY e.id
$$;

GRANT EXECUTE ON FUNCTION regent_audit_hashes(bigint, bigint) TO regent_app;
