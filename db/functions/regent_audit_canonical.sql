-- The audit events with ids in (p_from, p_to], in id order, each as the text its fingerprint is
-- taken of: every column, in a fixed order, as JSON text. created_at is taken in UTC: a
-- timestamptz becomes JSON in the session's TimeZone, so a verifier whose client sets another
-- zone would otherwise find every event changed. regent_audit_hashes hashes this text, and an
-- archive of the log carries it as it is, so that a verifier without the database hashes the
-- very same bytes.
CREATE FUNCTION regent_audit_canonical(p_from bigint, p_to bigint)
RETURNS TABLE (id bigint, canonical text) LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT e.id, jsonb_build_array(
    e.id, e.type, e.actor, e.subject_type, e.subject_id, e.data, e.request_id, e.ip, e.user_agent,
    e.created_at AT TIME ZONE 'UTC', e.tx_id::text)::text
  FROM audit_events e WHERE e.id > p_from AND e.id <= p_to
  ORDER BY e.id
$$;

GRANT EXECUTE ON FUNCTION regent_audit_canonical(bigint, bigint) TO regent_app;
