-- A batch preview's token: "<expiry>.<MAC>", the expiry in whole seconds since the epoch and
-- the MAC the hex SHA-256 of the database's preview key followed by the SHA-256 of what the
-- token names: this database, the batch's kind, its normalised filter, the expiry and the sorted
-- job ids. The key's input is of fixed length (key and digest), so a token cannot be extended
-- into another. Only this function reads the key (regent_secrets, the owner's alone): a token is
-- never computed by a caller, only asked of the database for a set it previewed, and it names
-- that set for that filter until it expires. Approval recomputes it for the set it reads under
-- lock (regent_create_retry_batch).
CREATE FUNCTION regent_preview_token(p_filter jsonb, p_kind retry_intent_kind, p_ids text[],
                                     p_expires bigint) RETURNS text LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT p_expires::text || '.' || encode(sha256(decode(s.preview_key, 'hex') || sha256(convert_to(
    concat_ws(E'\n', 'regent batch preview', current_database(), p_kind::text, p_filter::text,
              p_expires::text, array_to_string(p_ids, E'\n')), 'UTF8'))), 'hex')
  FROM regent_secrets s WHERE s.singleton
$$;

GRANT EXECUTE ON FUNCTION regent_preview_token(jsonb, retry_intent_kind, text[], bigint) TO regent_app;
