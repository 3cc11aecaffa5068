CREATE TABLE "regent_policy" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"retry_budget" integer DEFAULT 3 NOT NULL,
	"intent_ttl_hours" integer DEFAULT 72 NOT NULL,
	"intent_ttl_max_hours" integer DEFAULT 720 NOT NULL,
	"require_distinct_executor" boolean DEFAULT false NOT NULL,
	"retry_batch_max" integer DEFAULT 1000 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "regent_policy_singleton" CHECK ("regent_policy"."singleton"),
	CONSTRAINT "regent_policy_retry_budget" CHECK ("regent_policy"."retry_budget" BETWEEN 0 AND 100),
	CONSTRAINT "regent_policy_ttl_max" CHECK ("regent_policy"."intent_ttl_max_hours" BETWEEN 1 AND 720),
	CONSTRAINT "regent_policy_ttl" CHECK ("regent_policy"."intent_ttl_hours" BETWEEN 1 AND "regent_policy"."intent_ttl_max_hours"),
	CONSTRAINT "regent_policy_batch_max" CHECK ("regent_policy"."retry_batch_max" BETWEEN 1 AND 10000)
);
--> statement-breakpoint

-- The policy is the database's: one row, written by the owner (regent_set_policy, at migrate
-- and deploy time, from the configuration) and read by the units of work and the guards. The
-- application role reads it.
INSERT INTO "regent_policy" DEFAULT VALUES;
--> statement-breakpoint
GRANT SELECT ON regent_policy TO regent_app;
--> statement-breakpoint

-- An audit event's id, time and transaction are the database's: the application role names
-- only what an event says (so `OVERRIDING SYSTEM VALUE` with an id of its choosing is refused).
REVOKE INSERT ON audit_events FROM regent_app;
--> statement-breakpoint
GRANT INSERT (type, actor, subject_type, subject_id, data, request_id, ip, user_agent) ON audit_events TO regent_app;
--> statement-breakpoint

-- Seals, tokens, admin sessions and the pruning of refusal counts are written only through
-- the functions that keep their rule (regent_seal_audit, regent_create_api_token,
-- regent_revoke_api_token, regent_start_admin_session, regent_end_admin_session,
-- regent_prune_auth_refusals; db/functions/), which run with their owner's rights.
REVOKE INSERT ON audit_seals FROM regent_app;
--> statement-breakpoint
REVOKE USAGE ON SEQUENCE audit_seals_id_seq FROM regent_app;
--> statement-breakpoint
REVOKE INSERT, UPDATE ON api_tokens FROM regent_app;
--> statement-breakpoint
REVOKE INSERT, UPDATE ON admin_sessions FROM regent_app;
--> statement-breakpoint
REVOKE DELETE ON auth_refusals FROM regent_app;
--> statement-breakpoint

-- The migrator's record of the core (db/functions/) it applied: a digest of the files, so that
-- applying them again is skipped when nothing changed. The owner's alone.
CREATE TABLE regent_core_applied (
  id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
  digest text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
GRANT SELECT ON regent_core_applied TO regent_app;
