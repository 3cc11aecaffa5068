-- The policy every unit of work and guard applies: the retry budget, intents' default and
-- longest lifetime, the four-eyes rule and the largest batch. One row, written by the owner
-- (regent_set_policy, at migrate and deploy time, from the configuration); no argument or
-- session setting of a caller changes what a function trusts.
CREATE FUNCTION regent_policy() RETURNS regent_policy LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT * FROM regent_policy WHERE singleton
$$;

GRANT EXECUTE ON FUNCTION regent_policy() TO regent_app;
