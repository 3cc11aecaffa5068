-- What a batch of p_kind approved now would hold, for a filter: {count, jobIds (sorted),
-- previewToken, excluded: {overBudget, pendingIntent}, max, refusal}. The token names the set
-- for this filter and kind, on this database, for an hour (regent_preview_token): approval
-- recomputes it for the set it reads under lock. The candidates are read until one more than
-- the policy's maximum is found (regent_batch_candidates' p_limit), so a filter over a long
-- history costs a batch's worth of reading: refusal is then BATCH_TOO_LARGE ({code, details:
-- {count, max, atLeast}}) with count = max + 1 and atLeast true, the excluded counts covering
-- only what was read; else refusal is null and every figure is exact. It is answered rather
-- than raised so that a page can read a preview beside its other reads.
CREATE FUNCTION regent_preview_retry_batch(p_filter jsonb, p_kind retry_intent_kind DEFAULT 'RETRY')
RETURNS jsonb LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT jsonb_build_object(
    'count', s.count, 'jobIds', to_jsonb(s.ids),
    'previewToken', regent_preview_token(p_filter, p_kind, s.ids,
                                         extract(epoch FROM statement_timestamp())::bigint + 3600),
    'excluded', jsonb_build_object('overBudget', s.over_budget, 'pendingIntent', s.pending),
    'max', s.max,
    'refusal', CASE WHEN s.count > s.max THEN jsonb_build_object(
      'code', 'BATCH_TOO_LARGE',
      'details', jsonb_build_object('count', s.count, 'max', s.max, 'atLeast', true)) END)
  FROM (
    SELECT count(*) FILTER (WHERE c.eligible)::integer AS count,
           coalesce(array_agg(c.id ORDER BY c.id) FILTER (WHERE c.eligible), '{}') AS ids,
           count(*) FILTER (WHERE NOT c.pending AND NOT c.eligible)::integer AS over_budget,
           count(*) FILTER (WHERE c.pending)::integer AS pending,
           m.max
    FROM (SELECT retry_batch_max AS max FROM regent_policy WHERE singleton) m
    LEFT JOIN LATERAL regent_batch_candidates(p_filter, p_kind, m.max + 1) c ON true
    GROUP BY m.max
  ) s
$$;

GRANT EXECUTE ON FUNCTION regent_preview_retry_batch(jsonb, retry_intent_kind) TO regent_app;
