-- A timestamp as the API shows it: UTC, milliseconds (cut, as a JavaScript Date holds them), Z.
CREATE FUNCTION regent_iso(p_at timestamptz) RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

GRANT EXECUTE ON FUNCTION regent_iso(timestamptz) TO regent_app;
