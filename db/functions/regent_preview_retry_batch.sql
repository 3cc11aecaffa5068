-- What a batch of p_kind approved now would hold, for a filter: {count, jobIds (sorted), jobs,
-- byErrorCode, previewToken, excluded: {overBudget, pendingIntent, rejected}, max, refusal}. The token
-- names the set for this filter and kind, on this database, for an hour (regent_preview_token):
-- approval recomputes it for the set it reads under lock. `jobs` is one {id, errorCode,
-- errorMessage, failedAt, completedAt} per id of jobIds, in the same order: a RETRY batch's jobs
-- with their failure (completedAt null), a SUPERSEDE batch's with their completion (the three
-- failure fields null); `byErrorCode` counts the jobs per error code ({} for SUPERSEDE).
--
-- The candidates are read until one more than the policy's maximum is found
-- (regent_batch_candidates' p_limit), so a filter over a long history costs a batch's worth of
-- reading: refusal is then BATCH_TOO_LARGE ({code, details: {count, max, atLeast, windows,
-- rest}}) with count = max + 1 and atLeast true, the excluded counts covering only what was
-- read, `jobs` empty; else refusal is null and every figure is exact. It is answered rather than
-- raised so that a page can read a preview beside its other reads.
--
-- For a RETRY batch over the maximum, `windows` splits the filter by failure time into
-- consecutive {failedAfter, failedBefore, count}, each holding at most `max` of the open
-- failures a batch takes from (open or pending), so that each previews as a batch of its own;
-- the last window of a filter without failedBefore has none (null). A bound falls on a whole
-- second, or on a millisecond when the second holds too many. The walk reads max + 1 failures
-- per window in failed_at order, from the index the filter points at, and stops after 10
-- windows: `rest` then says where the failures not split yet begin ({failedAfter, cause:
-- 'MORE_WINDOWS'}), or ('SAME_INSTANT') that more than a batch failed within one millisecond
-- there, which no failure window can split; null when the windows cover them all.
CREATE FUNCTION regent_preview_retry_batch(p_filter jsonb, p_kind retry_intent_kind DEFAULT 'RETRY')
RETURNS jsonb LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
-- Planned for each filter and window, as regent_batch_candidates is: the windows' walk must use
-- the index the filter's fields point at, and start where the last window ended.
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_max constant integer := (SELECT retry_batch_max FROM regent_policy WHERE singleton);
  v_generator constant text := p_filter->>'generator';
  v_code constant text := p_filter->>'errorCode';
  v_before constant timestamptz := (p_filter->>'failedBefore')::timestamptz;
  v_after timestamptz := (p_filter->>'failedAfter')::timestamptz;
  v_start timestamptz;
  v_bound timestamptz;
  v_jobs jsonb := '[]';
  v_codes jsonb := '{}';
  v_windows jsonb := '[]';
  v_rest jsonb;
  v_refusal jsonb;
  s record;
  w record;
BEGIN
  SELECT count(*) FILTER (WHERE c.eligible)::integer AS count,
         coalesce(array_agg(c.id ORDER BY c.id) FILTER (WHERE c.eligible), '{}') AS ids,
         count(*) FILTER (WHERE NOT c.pending AND NOT c.eligible)::integer AS over_budget,
         count(*) FILTER (WHERE c.pending)::integer AS pending
  INTO s
  FROM regent_batch_candidates(p_filter, p_kind, v_max + 1) c;

  IF s.count <= v_max THEN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'id', j.id, 'errorCode', j.error->>'code', 'errorMessage', j.error->>'message',
             'failedAt', CASE WHEN j.status = 'FAILED' THEN regent_iso(j.finished_at) END,
             'completedAt', CASE WHEN j.status = 'COMPLETED' THEN regent_iso(j.finished_at) END)
             ORDER BY j.id), '[]')
    INTO v_jobs
    FROM regeneration_jobs j WHERE j.id = ANY (s.ids);
    SELECT coalesce(jsonb_object_agg(c.code, c.n), '{}') INTO v_codes
    FROM (SELECT e->>'errorCode' AS code, count(*)::integer AS n
          FROM jsonb_array_elements(v_jobs) AS e
          WHERE e->>'errorCode' IS NOT NULL GROUP BY 1) c;
  ELSIF p_kind = 'RETRY' THEN
    FOR n IN 1..10 LOOP
      -- The next max + 1 failures from where the last window ended: the first max + 1 open
      -- ones and the first max + 1 pending ones, each walked in failed_at order (a limit of
      -- its own keeps each walk an ordered index scan that stops there), merged.
      SELECT count(*)::integer AS taken, min(r.failed_at) AS first_at,
             max(r.failed_at) AS last_at, array_agg(r.failed_at) AS times
      INTO w
      FROM (SELECT u.failed_at FROM (
              (SELECT f.failed_at FROM open_failures f
               WHERE f.decision = 'open'
                 AND (v_generator IS NULL OR f.generator = v_generator)
                 AND (v_code IS NULL OR f.error_code = v_code)
                 AND (v_after IS NULL OR f.failed_at >= v_after)
                 AND (v_before IS NULL OR f.failed_at < v_before)
               ORDER BY f.failed_at LIMIT v_max + 1)
              UNION ALL
              (SELECT f.failed_at FROM open_failures f
               WHERE f.decision = 'pending'
                 AND (v_generator IS NULL OR f.generator = v_generator)
                 AND (v_code IS NULL OR f.error_code = v_code)
                 AND (v_after IS NULL OR f.failed_at >= v_after)
                 AND (v_before IS NULL OR f.failed_at < v_before)
               ORDER BY f.failed_at LIMIT v_max + 1)) u
            ORDER BY u.failed_at LIMIT v_max + 1) r;
      v_start := coalesce(v_after, date_trunc('second', w.first_at));
      IF w.taken <= v_max THEN
        -- The rest fits in one window, to the filter's own end.
        IF w.taken > 0 THEN
          v_windows := v_windows || jsonb_build_object('failedAfter', regent_iso(v_start),
            'failedBefore', regent_iso(v_before), 'count', w.taken);
        END IF;
        v_rest := NULL;
        EXIT;
      END IF;
      -- Every failure before the (max + 1)-th is one of the first max: a bound at or before it
      -- and after the window's first failure leaves between 1 and max in the window.
      v_bound := CASE
        WHEN date_trunc('second', w.last_at) > w.first_at THEN date_trunc('second', w.last_at)
        WHEN date_trunc('milliseconds', w.last_at) > w.first_at THEN date_trunc('milliseconds', w.last_at)
      END;
      IF v_bound IS NULL THEN
        v_rest := jsonb_build_object('failedAfter', regent_iso(v_start), 'cause', 'SAME_INSTANT');
        EXIT;
      END IF;
      v_windows := v_windows || jsonb_build_object('failedAfter', regent_iso(v_start),
        'failedBefore', regent_iso(v_bound),
        'count', (SELECT count(*)::integer FROM unnest(w.times) AS t(at) WHERE t.at < v_bound));
      v_after := v_bound;
      v_rest := jsonb_build_object('failedAfter', regent_iso(v_after), 'cause', 'MORE_WINDOWS');
    END LOOP;
  END IF;

  IF s.count > v_max THEN
    v_refusal := jsonb_build_object('code', 'BATCH_TOO_LARGE', 'details',
      jsonb_build_object('count', s.count, 'max', v_max, 'atLeast', true)
      || CASE WHEN p_kind = 'RETRY' THEN jsonb_build_object('windows', v_windows, 'rest', v_rest)
              ELSE '{}' END);
  END IF;
  RETURN jsonb_build_object(
    'count', s.count, 'jobIds', to_jsonb(s.ids), 'jobs', v_jobs, 'byErrorCode', v_codes,
    'previewToken', regent_preview_token(p_filter, p_kind, s.ids,
                                         extract(epoch FROM statement_timestamp())::bigint + 3600),
    'excluded', jsonb_build_object('overBudget', s.over_budget, 'pendingIntent', s.pending,
                                   'rejected', regent_batch_rejected(p_filter, p_kind)),
    'max', v_max,
    'refusal', v_refusal);
END $$;

GRANT EXECUTE ON FUNCTION regent_preview_retry_batch(jsonb, retry_intent_kind) TO regent_app;
