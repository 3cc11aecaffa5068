-- Refuses the statement outright; the trigger's argument names the rule. Statement-level, so
-- that even an UPDATE or DELETE matching no row fails: no such statement ever succeeds.
CREATE FUNCTION regent_refuse() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  RAISE EXCEPTION '%: % on % refused', TG_ARGV[0], TG_OP, TG_TABLE_NAME USING ERRCODE = 'RG001';
END $$;

CREATE TRIGGER regeneration_outputs_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON regeneration_outputs
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('regeneration outputs are insert-only');
CREATE TRIGGER audit_events_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('audit events are insert-only');
CREATE TRIGGER regeneration_jobs_never_deleted BEFORE DELETE OR TRUNCATE ON regeneration_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('regeneration jobs are never deleted');
CREATE TRIGGER retry_intents_never_deleted BEFORE DELETE OR TRUNCATE ON retry_intents
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('retry intents are never deleted');
CREATE TRIGGER api_tokens_never_deleted BEFORE DELETE OR TRUNCATE ON api_tokens
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('api tokens are revoked, never deleted');
CREATE TRIGGER retry_batches_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON retry_batches
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('retry batches are insert-only');
CREATE TRIGGER audit_seals_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_seals
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('audit seals are insert-only');
CREATE TRIGGER commit_checks_never_changed BEFORE UPDATE OR TRUNCATE ON commit_checks
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('commit checks are never changed');
CREATE TRIGGER regent_policy_one_row BEFORE DELETE OR TRUNCATE ON regent_policy
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('the policy has one row, always');
CREATE TRIGGER generator_versions_insert_only BEFORE UPDATE OR DELETE OR TRUNCATE ON generator_versions
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('generator versions are insert-only');
CREATE TRIGGER generators_never_deleted BEFORE DELETE OR TRUNCATE ON generators
  FOR EACH STATEMENT EXECUTE FUNCTION regent_refuse('generators are never deleted');
