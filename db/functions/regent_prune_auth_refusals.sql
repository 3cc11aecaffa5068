-- Deletes up to p_limit counts of anonymous refusals, and as many of known principals'
-- denials, older than 30 days (long enough to look back over a month's incidents), oldest
-- first, by the primary key's leading column; returns how many. SECURITY DEFINER: the
-- application role may count refusals but not delete them, so pruning cannot reach a count
-- younger than the retention. (A denial's first of each hour stays in the audit log.)
CREATE FUNCTION regent_prune_auth_refusals(p_limit integer) RETURNS integer LANGUAGE sql
SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  WITH old AS (
    DELETE FROM auth_refusals
    WHERE (hour, ip, reason) IN (
      SELECT hour, ip, reason FROM auth_refusals
      WHERE hour < now() - interval '30 days'
      ORDER BY hour
      LIMIT least(greatest(p_limit, 0), 10000)
    )
    RETURNING 1
  ), old_denials AS (
    DELETE FROM auth_denials
    WHERE (hour, actor, route) IN (
      SELECT hour, actor, route FROM auth_denials
      WHERE hour < now() - interval '30 days'
      ORDER BY hour
      LIMIT least(greatest(p_limit, 0), 10000)
    )
    RETURNING 1
  )
  SELECT ((SELECT count(*) FROM old) + (SELECT count(*) FROM old_denials))::integer
$$;

GRANT EXECUTE ON FUNCTION regent_prune_auth_refusals(integer) TO regent_app;
