-- The jobs without a successor that a batch of p_kind takes from a filter: FAILED ones to
-- retry ({generator?, errorCode?, failedAfter?, failedBefore?}, read from open_failures, less
-- those whose newest intent a person rejected: that was a decision, which a batch does not
-- undo; regent_batch_rejected counts them) or COMPLETED ones to supersede ({generator?,
-- generatorVersion?, completedAfter?, completedBefore?}; the version is the output's),
-- instants on finished_at; each with its retry depth, whether an intent already waits for it,
-- and whether a batch takes it: no pending intent, and within the policy's retry budget.
-- Preview and approval both read the set here.
--
-- With p_limit, the walk stops at the p_limit-th job a batch takes: a filter over a long
-- history answers "more than a batch holds" after reading that many, not after reading every
-- match. The jobs are walked in the order the plan finds them, so a stopped walk returns some
-- of the matches, not the first ones by any order; a walk that did not stop returns them all.
CREATE FUNCTION regent_batch_candidates(p_filter jsonb, p_kind retry_intent_kind DEFAULT 'RETRY',
                                        p_limit integer DEFAULT NULL)
RETURNS TABLE (id text, depth integer, pending boolean, eligible boolean) LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
-- Planned for each filter: a plan made once for any filter could not use the index its fields
-- point at (open_failures_decision_idx, _decision_code_idx, _failed_idx).
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
  v_budget constant integer := (SELECT retry_budget FROM regent_policy WHERE singleton);
  v_taken integer := 0;
  c record;
BEGIN
  FOR c IN
    SELECT f.job_id AS id,
           -- Most failed jobs are originals; only a retry needs its chain walked.
           CASE WHEN f.is_retry THEN regent_retry_depth(f.job_id) ELSE 0 END AS depth,
           f.decision = 'pending' AS pending
    FROM open_failures f
    WHERE p_kind = 'RETRY' AND f.decision IN ('open', 'pending')
      AND (p_filter->>'generator' IS NULL OR f.generator = p_filter->>'generator')
      AND (p_filter->>'errorCode' IS NULL OR f.error_code = p_filter->>'errorCode')
      AND (p_filter->>'failedAfter' IS NULL OR f.failed_at >= (p_filter->>'failedAfter')::timestamptz)
      AND (p_filter->>'failedBefore' IS NULL OR f.failed_at < (p_filter->>'failedBefore')::timestamptz)
    UNION ALL
    SELECT j.id,
           CASE WHEN j.retry_of_job_id IS NULL THEN 0 ELSE regent_retry_depth(j.id) END,
           EXISTS (SELECT 1 FROM retry_intents i WHERE i.source_job_id = j.id AND i.status = 'PENDING')
    FROM regeneration_jobs j
    WHERE p_kind = 'SUPERSEDE' AND j.status = 'COMPLETED'
      AND (p_filter->>'generator' IS NULL OR j.generator = p_filter->>'generator')
      AND (p_filter->>'completedAfter' IS NULL OR j.finished_at >= (p_filter->>'completedAfter')::timestamptz)
      AND (p_filter->>'completedBefore' IS NULL OR j.finished_at < (p_filter->>'completedBefore')::timestamptz)
      AND (p_filter->>'generatorVersion' IS NULL OR EXISTS (
             SELECT 1 FROM regeneration_outputs o
             WHERE o.job_id = j.id AND o.generator_version = p_filter->>'generatorVersion'))
      AND NOT EXISTS (SELECT 1 FROM regeneration_jobs r WHERE r.retry_of_job_id = j.id)
  LOOP
    id := c.id;
    depth := c.depth;
    pending := c.pending;
    eligible := NOT c.pending AND c.depth < v_budget;
    RETURN NEXT;
    IF eligible THEN
      v_taken := v_taken + 1;
      EXIT WHEN v_taken = p_limit;
    END IF;
  END LOOP;
END $$;

GRANT EXECUTE ON FUNCTION regent_batch_candidates(jsonb, retry_intent_kind, integer) TO regent_app;
