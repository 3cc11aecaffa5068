-- A human reason as the catalog's brake stores it: trimmed, 1 to 2,000 characters, or the
-- request is refused (VALIDATION_FAILED naming `reasonText` and the bounds).
CREATE FUNCTION regent_reason_text(p_text text) RETURNS text LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF char_length(btrim(coalesce(p_text, ''))) NOT BETWEEN 1 AND 2000 THEN
    PERFORM regent_refuse_with('VALIDATION_FAILED', jsonb_build_object('field', 'reasonText', 'min', 1, 'max', 2000));
  END IF;
  RETURN btrim(p_text);
END $$;

GRANT EXECUTE ON FUNCTION regent_reason_text(text) TO regent_app;
