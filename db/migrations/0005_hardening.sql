CREATE TABLE "admin_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"token_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_seals" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_seals_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"from_event_id" bigint NOT NULL,
	"to_event_id" bigint NOT NULL,
	"event_count" integer NOT NULL,
	"event_ids" bigint[] NOT NULL,
	"event_hashes" "bytea" NOT NULL,
	"prev_digest" text NOT NULL,
	"digest" text NOT NULL,
	"next_watermark_id" bigint NOT NULL,
	"next_xmax" "xid8" NOT NULL,
	"sealed_by" text NOT NULL,
	"sealed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_refusals" (
	"hour" timestamp with time zone NOT NULL,
	"ip" text NOT NULL,
	"reason" text NOT NULL,
	"count" integer DEFAULT 1 NOT NULL,
	"last_path" text,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "auth_refusals_hour_ip_reason_pk" PRIMARY KEY("hour","ip","reason")
);
--> statement-breakpoint
ALTER TABLE "admin_sessions" ADD CONSTRAINT "admin_sessions_token_id_api_tokens_id_fk" FOREIGN KEY ("token_id") REFERENCES "public"."api_tokens"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "admin_sessions_token_idx" ON "admin_sessions" USING btree ("token_id");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint

-- Tamper evidence for the audit log. The triggers keep every client from changing an audit
-- event; a superuser can still switch them off. Seals make that visible: each one covers the
-- events with ids in (from_event_id, to_event_id], a range no transaction can still add to,
-- keeps each event's fingerprint, and chains a SHA-256 digest of the range to the previous
-- seal's. regent_verify_audit() recomputes the chain from the rows and names the first event
-- changed, removed, or added behind the seal's back.

CREATE TRIGGER audit_seals_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_seals
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('audit seals are insert-only');
--> statement-breakpoint

-- An event's fingerprint: every column, in a fixed order, as JSON text. created_at is taken in
-- UTC: a timestamptz becomes JSON in the session's TimeZone, so a verifier whose client sets
-- another zone would otherwise find every event changed. STABLE, as jsonb_build_array is: a
-- function declared stricter than its body is not inlined, and the call then costs as much as
-- the hashing (sealing 100,000 events took 2-3 times as long).
CREATE FUNCTION regent_audit_event_hash(e audit_events) RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT sha256(convert_to(jsonb_build_array(
    e.id, e.type, e.actor, e.subject_type, e.subject_id, e.data, e.request_id, e.ip, e.user_agent,
    e.created_at AT TIME ZONE 'UTC', e.tx_id::text)::text, 'UTF8'))
$$;
--> statement-breakpoint

-- A seal's watermark is final once the transactions below its xmax have ended, which holds
-- only for a writer that had its transaction id before it drew an event id. The id is drawn
-- while the row is built and nextval does not take a transaction id, so a writer whose first
-- write this is could draw an id, be descheduled, and get its transaction id after a seal had
-- recorded its xmax: the next seal would then cover an id that commits later, and report it
-- added. This trigger runs before any row of the statement is built.
CREATE FUNCTION regent_take_xact_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_current_xact_id();
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER audit_events_xact_id_first BEFORE INSERT ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION regent_take_xact_id();
--> statement-breakpoint

-- Seals what has become final since the last seal, and sets the next watermark. An id is final
-- once every transaction that was running when it was the newest visible id has ended: those
-- are below the xmax recorded with the watermark. Returns the new seal, or NULL when the last
-- watermark is not final yet (a long transaction is still open) or when nothing happened since
-- the last seal, or at all (an idle worker adds no rows). One sealer at a time, in READ COMMITTED: a
-- snapshot taken before the lock (REPEATABLE READ takes it at the call) would miss the seal
-- that the sealer ahead just wrote, and fork the chain.
CREATE FUNCTION regent_seal_audit(p_sealed_by text) RETURNS SETOF audit_seals LANGUAGE plpgsql AS $$
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
  -- MATERIALIZED: hashed once per event, not once per aggregate that reads it.
  WITH hashed AS MATERIALIZED (
    SELECT e.id, regent_audit_event_hash(e) AS h FROM audit_events e WHERE e.id > v_from AND e.id <= v_to)
  SELECT coalesce(array_agg(id ORDER BY id), '{}'),
         coalesce(string_agg(substring(h FROM 1 FOR 8), ''::bytea ORDER BY id), ''::bytea),
         coalesce(string_agg(h, ''::bytea ORDER BY id), ''::bytea)
    INTO v_ids, v_short, v_full
  FROM hashed;
  RETURN QUERY
  INSERT INTO audit_seals (from_event_id, to_event_id, event_count, event_ids, event_hashes,
                           prev_digest, digest, next_watermark_id, next_xmax, sealed_by)
  VALUES (v_from, v_to, coalesce(array_length(v_ids, 1), 0), v_ids, v_short, v_prev,
          encode(sha256(decode(v_prev, 'hex') || v_full), 'hex'),
          v_watermark, pg_snapshot_xmax(pg_current_snapshot()), p_sealed_by)
  RETURNING *;
END $$;
--> statement-breakpoint

-- Recomputes every seal from the rows as they are now. Returns the first problem found, in
-- seal order (no row: the log is as it was sealed): the seal, the event, and what happened to
-- it: 'changed', 'removed', 'added', or 'seal chain broken' when a seal itself was altered.
CREATE FUNCTION regent_verify_audit()
RETURNS TABLE (seal_id bigint, event_id bigint, problem text) LANGUAGE plpgsql STABLE AS $$
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
    WITH hashed AS MATERIALIZED (
      SELECT e.id, regent_audit_event_hash(e) AS h FROM audit_events e
      WHERE e.id > s.from_event_id AND e.id <= s.to_event_id)
    SELECT coalesce(array_agg(id ORDER BY id), '{}'),
           coalesce(string_agg(substring(h FROM 1 FOR 8), ''::bytea ORDER BY id), ''::bytea),
           coalesce(string_agg(h, ''::bytea ORDER BY id), ''::bytea)
      INTO v_ids, v_short, v_full
    FROM hashed;
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
--> statement-breakpoint

-- A session only ends, once; nothing else about it changes.
CREATE FUNCTION regent_session_update_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.ended_at IS NOT NULL OR NEW.ended_at IS NULL
     OR (to_jsonb(NEW) - 'ended_at') IS DISTINCT FROM (to_jsonb(OLD) - 'ended_at') THEN
    RAISE EXCEPTION 'an admin session changes only by ending, once (session %)', OLD.id USING ERRCODE = 'RG001';
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER admin_sessions_update_guard BEFORE UPDATE ON admin_sessions
  FOR EACH ROW EXECUTE FUNCTION regent_session_update_guard();
--> statement-breakpoint

-- The application role: seals are written and read through the functions; sessions are
-- started and ended; anonymous refusals are counted and pruned; idempotency keys expire and
-- are pruned. Nothing here is audit data, so pruning removes nothing the audit log holds.
GRANT SELECT, INSERT ON audit_seals TO regent_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON SEQUENCE audit_seals_id_seq TO regent_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON admin_sessions TO regent_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON auth_refusals TO regent_app;
--> statement-breakpoint
GRANT DELETE ON idempotency_keys TO regent_app;
--> statement-breakpoint
REVOKE ALL ON FUNCTION regent_audit_event_hash(audit_events), regent_seal_audit(text),
  regent_verify_audit(), regent_session_update_guard(), regent_take_xact_id() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION regent_audit_event_hash(audit_events), regent_seal_audit(text),
  regent_verify_audit() TO regent_app;
