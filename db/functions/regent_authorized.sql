-- A unit of work's argument with its caller settled: when p carries `caller` ({credential,
-- role}, a credential the application left to the database), regent_caller proves and checks
-- it, and the actor it names becomes p.ctx.actor (who the audit events say acted) and the
-- principal of p.key (whose Idempotency-Key it is). Without `caller`, p is the application's
-- word for who acts (a principal it proved itself) and is returned as it is.
CREATE FUNCTION regent_authorized(p jsonb) RETURNS jsonb LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_caller jsonb;
BEGIN
  IF NOT p ? 'caller' THEN
    RETURN p;
  END IF;
  v_caller := regent_caller(p->'caller'->'credential', p->'caller'->>'role');
  p := jsonb_set(p - 'caller', '{ctx,actor}', v_caller->'actor');
  IF jsonb_typeof(p->'key') = 'object' THEN
    p := jsonb_set(p, '{key,principal}', v_caller->'actor');
  END IF;
  RETURN p;
END $$;

GRANT EXECUTE ON FUNCTION regent_authorized(jsonb) TO regent_app;
