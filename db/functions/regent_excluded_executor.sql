-- Who may not execute what `p_approved_by` approved, under the four-eyes rule: the approver
-- while the policy asks for distinct executors, else nobody (null). The units of work refuse
-- that executor (FOUR_EYES_REQUIRED); the pages read it beside an intent or a batch, to say so
-- before the admin tries.
CREATE FUNCTION regent_excluded_executor(p_approved_by text) RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT CASE WHEN require_distinct_executor THEN p_approved_by END FROM regent_policy WHERE singleton
$$;

GRANT EXECUTE ON FUNCTION regent_excluded_executor(text) TO regent_app;
