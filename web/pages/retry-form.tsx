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
}

/**
 * The create-intent form. When the job cannot be retried the form is still shown, disabled,
 * under the sentence that says why, so the operator learns the rule where they meet it.
 */
export const RetryIntentForm: FC<{
  jobId: string;
  disabledBecause?: string | undefined;
  values?: RetryFormValues | undefined;
}> = ({ jobId, disabledBecause, values }) => (
  <form
    method="post"
    action={`/admin/jobs/${encodeURIComponent(jobId)}/retry-intents`}
    aria-describedby={disabledBecause ? "retry-disabled-reason" : undefined}
  >
    <CsrfField />
    <fieldset disabled={Boolean(disabledBecause)}>
      <legend>Create a retry intent</legend>
      <div class="form-grid">
        <div class="field">
          <label for="reasonCode">Reason code</label>
          <select id="reasonCode" name="reasonCode" required>
            {REASON_CODES.map((code) => (
              <option value={code} selected={values?.reasonCode === code}>
                {code} · {REASON_HINT[code]}
              </option>
            ))}
          </select>
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
      <div class="actions">
        <button type="submit" class="button button-primary">
          Create retry intent
        </button>
        <span class="hint">Nothing runs yet: the intent must then be executed.</span>
      </div>
    </fieldset>
  </form>
);
