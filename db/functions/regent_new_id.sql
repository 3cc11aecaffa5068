-- The id of every row Regent makes (jobs, intents, batches, tokens): a letter and 24 hex
-- digits, 96 of them bits of gen_random_uuid's strong randomness. Drawn by the database alone,
-- so there is one scheme and no caller picks an id.
CREATE FUNCTION regent_new_id() RETURNS text LANGUAGE sql VOLATILE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT chr(97 + floor(random() * 26)::integer) || left(u, 12) || right(u, 12)
  FROM (SELECT replace(gen_random_uuid()::text, '-', '') AS u) g
$$;

GRANT EXECUTE ON FUNCTION regent_new_id() TO regent_app;
