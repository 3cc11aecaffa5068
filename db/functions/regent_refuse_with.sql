-- Refuses the whole unit of work: nothing it wrote stays. SQLSTATE RG003, the error code as
-- the message and the details as JSON (a null detail is left out, as the application's JSON
-- leaves out an undefined field); the application words the sentence from them.
CREATE FUNCTION regent_refuse_with(p_code text, p_details jsonb) RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'RG003', MESSAGE = p_code,
    DETAIL = jsonb_strip_nulls(coalesce(p_details, '{}'::jsonb))::text;
END $$;

GRANT EXECUTE ON FUNCTION regent_refuse_with(text, jsonb) TO regent_app;
