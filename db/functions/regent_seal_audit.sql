-- Seals what has become final since the last seal, and sets the next watermark. An id is
-- final once every transaction that was running when it was the newest visible id has ended:
-- those are below the xmax recorded with the watermark. Returns the new seal, or nothing when
-- the last watermark is not final yet (a long transaction is still open) or when nothing
-- happened since the last seal, or at all (an idle worker adds no rows).
--
-- The only writer of audit_seals: SECURITY DEFINER, since the application role may not insert
-- a seal itself (a hand-made one could stall sealing for good, or cover a later edit). One
-- sealer at a time, in READ COMMITTED: a snapshot taken before the lock (REPEATABLE READ takes
-- it at the call) would miss the seal the sealer ahead just wrote, and fork the chain.
CREATE FUNCTION regent_seal_audit(p_sealed_by text) RETURNS SETOF audit_seals LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  last audit_seals%ROWTYPE;
  v_from bigint := 0;
  v_to bigint := 0;
  v_prev text := repeat('0', 64);
  v_ids bigint[];
  v_short bytea;
  v_full bytea;
  v_watermark bigint;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit seals are made in READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'RG001';
  END IF;
  IF length(btrim(coalesce(p_sealed_by, ''))) = 0 THEN
    RAISE EXCEPTION 'a seal names its sealer' USING ERRCODE = 'RG001';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('regent.audit_seal', 0));
  SELECT coalesce(max(id), 0) INTO v_watermark FROM audit_events;
  SELECT * INTO last FROM audit_seals ORDER BY id DESC LIMIT 1;
  IF NOT FOUND AND v_watermark = 0 THEN
    RETURN;
  END IF;
  IF FOUND THEN
    IF pg_snapshot_xmin(pg_current_snapshot()) < last.next_xmax THEN
      RETURN;
    END IF;
    v_from := last.to_event_id;
    v_to := greatest(last.next_watermark_id, last.to_event_id);
    v_prev := last.digest;
    IF v_to = v_from AND v_watermark = last.next_watermark_id THEN
      RETURN;
    END IF;
  END IF;
  SELECT coalesce(array_agg(h.id ORDER BY h.id), '{}'),
         coalesce(string_agg(substring(h.hash FROM 1 FOR 8), ''::bytea ORDER BY h.id), ''::bytea),
         coalesce(string_agg(h.hash, ''::bytea ORDER BY h.id), ''::bytea)
    INTO v_ids, v_short, v_full
  FROM regent_audit_hashes(v_from, v_to) h;
  RETURN QUERY
  INSERT INTO audit_seals (from_event_id, to_event_id, event_count, event_ids, event_hashes,
                           prev_digest, digest, next_watermark_id, next_xmax, sealed_by)
  VALUES (v_from, v_to, coalesce(array_length(v_ids, 1), 0), v_ids, v_short, v_prev,
          encode(sha256(decode(v_prev, 'hex') || v_full), 'hex'),
          v_watermark, pg_snapshot_xmax(pg_current_snapshot()), p_sealed_by)
  RETURNING *;
END $$;

GRANT EXECUTE ON FUNCTION regent_seal_audit(text) TO regent_app;
