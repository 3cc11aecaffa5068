import type { FC } from "hono/jsx";
import type { RetryReasonCode } from "../../db/schema";
import { REASON_CODES, REASON_TEXT_MAX } from "../../functions/domain/retry-intents";
import { CsrfField } from "../components/csrf-field";

const REASON_HINT: Record<RetryReasonCode, string> = {
  TRANSIENT_FAILURE: "timeout, rate limit, outage",
  BAD_INPUT: "input fixed upstream",
  IMPROVED_PROMPT: "prompt or generator improved",
  INFRA_ERROR: "our infrastructure failed",
  OTHER: "explain in the reason",
};

export interface RetryFormValues {
  reasonCode?: string | undefined;
  reasonText?: string | undefined;
  overrideBudget?: boolean | undefined;
}

/**
 * The reason code options. What was typed wins; otherwise the code the failure suggests is
 * preselected, and it stays marked "(suggested)" either way so the admin sees it was a guess.
 */
export const ReasonCodeOptions: FC<{
  selected?: string | undefined;
  suggested?: RetryReasonCode | undefined;
}> = ({ selected, suggested }) => (
  <>
    {REASON_CODES.map((code) => (
      <option value={code} selected={(selected ?? suggested) === code}>
        {code}
        {code === suggested ? " (suggested)" : ""} · {REASON_HINT[code]}
      </option>
    ))}
  </>
);

/**
 * The create-intent form. When the job cannot be retried the form is still shown, disabled,
 * under the sentence that says why, so the operator learns the rule where they meet it. When
 * the chain has used its retry budget it offers the override, which the domain accepts only
 * with reason code OTHER.
 */
export const RetryIntentForm: FC<{
  jobId: string;
  disabledBecause?: string | undefined;
  values?: RetryFormValues | undefined;
  suggested?: RetryReasonCode | undefined;
  budgetExhausted?: boolean | undefined;
}> = ({ jobId, disabledBecause, values, suggested, budgetExhausted }) => (
  <form
    method="post"
    action={`/admin/jobs/${encodeURIComponent(jobId)}/retry-intents`}
    aria-describedby={
      disabledBecause ? "retry-disabled-reason" : budgetExhausted ? "budget-exhausted" : undefined
    }
  >
    <CsrfField />
    <fieldset disabled={Boolean(disabledBecause)}>
      <legend>Create a retry intent</legend>
      <div class="form-grid">
        <div class="field">
          <label for="reasonCode">Reason code</label>
          <select id="reasonCode" name="reasonCode" required>
            <ReasonCodeOptions selected={values?.reasonCode} suggested={suggested} />
          </select>
          {suggested ? (
            <span class="hint">Suggested from the job's error; choose what fits.</span>
          ) : null}
        </div>
        <div class="field">
          <label for="reasonText">Reason</label>
          <textarea
            id="reasonText"
            name="reasonText"
            required
            maxlength={REASON_TEXT_MAX}
            aria-describedby="reasonText-hint"
          >
            {values?.reasonText ?? ""}
          </textarea>
          <span id="reasonText-hint" class="hint">
            Why a retry should succeed now. Recorded with your name; it cannot be changed later.
          </span>
        </div>
      </div>
      {budgetExhausted ? (
        <div class="field check">
          <label for="overrideBudget">
            <input
              type="checkbox"
              id="overrideBudget"
              name="overrideBudget"
              value="yes"
              checked={Boolean(values?.overrideBudget)}
              aria-describedby="overrideBudget-hint"
            />{" "}
            Override the retry budget
          </label>
          <span id="overrideBudget-hint" class="hint">
            An exception: it needs reason code OTHER, and the reason should say why this chain
            deserves another attempt. The intent is marked as a budget override.
          </span>
        </div>
      ) : null}
      <div class="actions">
        <button type="submit" class="button button-primary">
          Create retry intent
        </button>
        <span class="hint">Nothing runs yet: the intent must then be executed.</span>
      </div>
    </fieldset>
  </form>
);
