-- regent_app: the least privilege that running Regent takes. The deployed Workers connect as a
-- LOGIN member of it (docs/deployment.md); migrations run as the role that owns the tables.
-- It may read and write rows as the domain does, and nothing more: no DELETE, no TRUNCATE, no
-- DDL, no ownership, so it can neither remove data nor switch off the triggers that guard it.
-- A later migration that creates a table, sequence or function grants regent_app what the
-- application needs on it, in the same migration.

-- Roles belong to the server, not to one database, and another database on the same server
-- may be migrating at this very moment: whichever creates the role first wins, and the other
-- finds it there (or collides with the creation and takes the role as made).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regent_app') THEN
    CREATE ROLE regent_app NOLOGIN;
  END IF;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint

GRANT USAGE ON SCHEMA public TO regent_app;
--> statement-breakpoint

-- Before PostgreSQL 15 every role may create objects in the public schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
--> statement-breakpoint

-- Jobs and intents move forward (claim, finish, consume, reject) and tokens are revoked: rows
-- are updated, under the triggers' rules. The rest is written once and read.
GRANT SELECT, INSERT, UPDATE ON regeneration_jobs, retry_intents, api_tokens TO regent_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON regeneration_outputs, audit_events, idempotency_keys TO regent_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON SEQUENCE audit_events_id_seq TO regent_app;
--> statement-breakpoint

-- Trigger functions run without EXECUTE; regent_require_audit is called by them with the
-- writer's own rights. Nobody else needs to call any of them.
REVOKE ALL ON FUNCTION
  regent_refuse(), regent_audit_stamp(), regent_require_audit(text, text),
  regent_job_insert_guard(), regent_job_update_guard(), regent_job_commit_check(),
  regent_output_insert_guard(), regent_intent_insert_guard(), regent_intent_update_guard(),
  regent_intent_commit_check(), regent_token_update_guard()
FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION regent_require_audit(text, text) TO regent_app;
