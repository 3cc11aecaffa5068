-- The fingerprints of the audit events with ids in (p_from, p_to], in id order: SHA-256 of
-- each one's canonical text (regent_audit_canonical). A range at a time, because a function
-- with a pinned search_path is never inlined: called per event, it cost as much as the hashing.
CREATE FUNCTION regent_audit_hashes(p_from bigint, p_to bigint)
RETURNS TABLE (id bigint, hash bytea) LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT c.id, sha256(convert_to(c.canonical, 'UTF8'))
  FROM regent_audit_canonical(p_from, p_to) c
  ORDER BY c.id
$$;

GRANT EXECUTE ON FUNCTION regent_audit_hashes(bigint, bigint) TO regent_app;
