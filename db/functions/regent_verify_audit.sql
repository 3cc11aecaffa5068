-- Recomputes every seal from the rows as they are now. Returns the first problem found, in
-- seal order (no row: the log is as it was sealed): the seal, the event, and what happened to
-- it: 'changed', 'removed', 'added', or 'seal chain broken' when a seal itself was altered.
CREATE FUNCTION regent_verify_audit()
RETURNS TABLE (seal_id bigint, event_id bigint, problem text) LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  s audit_seals%ROWTYPE;
  prev text := repeat('0', 64);
  prev_to bigint := 0;
  v_ids bigint[];
  v_short bytea;
  v_full bytea;
  i integer;
BEGIN
  FOR s IN SELECT * FROM audit_seals ORDER BY id LOOP
    IF s.prev_digest <> prev OR s.from_event_id <> prev_to
       OR s.event_count <> coalesce(array_length(s.event_ids, 1), 0)
       OR length(s.event_hashes) <> 8 * coalesce(array_length(s.event_ids, 1), 0) THEN
      RETURN QUERY SELECT s.id, NULL::bigint, 'seal chain broken';
      RETURN;
    END IF;
    SELECT coalesce(array_agg(h.id ORDER BY h.id), '{}'),
           coalesce(string_agg(substring(h.hash FROM 1 FOR 8), ''::bytea ORDER BY h.id), ''::bytea),
           coalesce(string_agg(h.hash, ''::bytea ORDER BY h.id), ''::bytea)
      INTO v_ids, v_short, v_full
    FROM regent_audit_hashes(s.from_event_id, s.to_event_id) h;
    IF v_ids IS DISTINCT FROM s.event_ids THEN
      -- The first id on which the two lists part: missing now, or there now and not then.
      FOR i IN 1 .. greatest(coalesce(array_length(v_ids, 1), 0), coalesce(array_length(s.event_ids, 1), 0)) LOOP
        IF v_ids[i] IS DISTINCT FROM s.event_ids[i] THEN
          IF v_ids[i] IS NULL OR (s.event_ids[i] IS NOT NULL AND s.event_ids[i] < v_ids[i]) THEN
            RETURN QUERY SELECT s.id, s.event_ids[i], 'removed';
          ELSE
            RETURN QUERY SELECT s.id, v_ids[i], 'added';
          END IF;
          RETURN;
        END IF;
      END LOOP;
    END IF;
    IF v_short <> s.event_hashes OR encode(sha256(decode(s.prev_digest, 'hex') || v_full), 'hex') <> s.digest THEN
      FOR i IN 1 .. coalesce(array_length(v_ids, 1), 0) LOOP
        IF substring(v_short FROM (i - 1) * 8 + 1 FOR 8) <> substring(s.event_hashes FROM (i - 1) * 8 + 1 FOR 8) THEN
          RETURN QUERY SELECT s.id, v_ids[i], 'changed';
          RETURN;
        END IF;
      END LOOP;
      RETURN QUERY SELECT s.id, NULL::bigint, 'seal chain broken';
      RETURN;
    END IF;
    prev := s.digest;
    prev_to := s.to_event_id;
  END LOOP;
END $$;

GRANT EXECUTE ON FUNCTION regent_verify_audit() TO regent_app;
