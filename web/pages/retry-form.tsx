import type { FC } from "hono/jsx";
import type { RetryIntentKind, RetryReasonCode } from "../../db/schema";
import {
  CHANGING_REASONS,
  REASON_CODES,
  REASON_TEXT_MAX,
} from "../../functions/domain/retry-intents";
import { CsrfField } from "../components/csrf-field";
import { adminPath } from "../context";

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
  /** The corrected input as typed, JSON or not: shown again as it was when refused. */
  correctedInput?: string | undefined;
}

/**
 * The reason code options. What was typed wins; otherwise the code the failure suggests is
 * preselected, and it stays marked "(suggested)" either way so the admin sees it was a guess.
 */
export const ReasonCodeOptions: FC<{
  selected?: string | undefined;
  suggested?: RetryReasonCode | undefined;
  codes?: readonly RetryReasonCode[];
}> = ({ selected, suggested, codes = REASON_CODES }) => (
  <>
    {codes.map((code) => (
      <option value={code} selected={(selected ?? suggested) === code}>
        {code}
        {code === suggested ? " (suggested)" : ""} · {REASON_HINT[code]}
      </option>
    ))}
  </>
);

/** "BAD_INPUT, IMPROVED_PROMPT or OTHER": the codes that may change the input or supersede. */
export const CHANGING_LIST = `${CHANGING_REASONS.slice(0, -1).join(", ")} or ${CHANGING_REASONS.at(-1)}`;

/** What the form says and where it posts, for each kind of intent it records. */
const FORMS: Record<
  RetryIntentKind,
  {
    path: string;
    legend: string;
    reasonHint: string;
    submit: string;
    after: string;
    codes: readonly RetryReasonCode[];
  }
> = {
  RETRY: {
    path: "retry-intents",
    legend: "Create a retry intent",
    reasonHint: "Why a retry should succeed now.",
    submit: "Create retry intent",
    after: "Nothing runs yet: the intent must then be executed.",
    codes: REASON_CODES,
  },
  SUPERSEDE: {
    path: "supersede",
    legend: "Supersede this result",
    reasonHint: "What was wrong with this result, and why a new job will do better.",
    submit: "Create supersede intent",
    after:
      "Nothing runs yet: the intent must then be executed. This job and its output stay as they are.",
    // Superseding says something in the job was wrong; a transient failure or the
    // infrastructure does not, so the form does not offer them (the domain refuses them too).
    codes: CHANGING_REASONS,
  },
};

/**
 * The corrected input box: empty unless the admin types one, which then replaces the source's
 * input for the new job. Plain text, so that what was typed comes back as it was when refused.
 */
const CorrectedInputField: FC<{
  value?: string | undefined;
  generator: string;
  version: string | null;
}> = ({ value, generator, version }) => (
  <div class="field">
    <label for="correctedInput">Corrected input (JSON)</label>
    <textarea
      id="correctedInput"
      name="correctedInput"
      class="mono"
      rows={5}
      spellcheck={false}
      aria-describedby="correctedInput-hint"
    >
      {value ?? ""}
    </textarea>
    <span id="correctedInput-hint" class="hint">
      Optional: leave it empty to run with this job's input unchanged. A corrected input applies
      only with reason code {CHANGING_LIST}, and it must match the input schema of{" "}
      <span class="mono">{generator}</span>
      {version ? (
        <>
          {" "}
          (now <span class="mono">{version}</span>)
        </>
      ) : null}
      . The job's own input is never changed.
    </span>
  </div>
);

/**
 * The create-intent form: a retry of a FAILED job, or (`kind` SUPERSEDE) a new job to replace a
 * COMPLETED job's result, each with an optional corrected input. When a job cannot be retried
 * the retry form is still shown, disabled, under the sentence that says why, so the operator
 * learns the rule where they meet it. When the chain has used its retry budget it offers the
 * override, which the domain accepts only with reason code OTHER.
 */
export const RetryIntentForm: FC<{
  jobId: string;
  generator: string;
  /** The generator's current version, which a corrected input is checked against. */
  version: string | null;
  kind?: RetryIntentKind | undefined;
  disabledBecause?: string | undefined;
  values?: RetryFormValues | undefined;
  suggested?: RetryReasonCode | undefined;
  budgetExhausted?: boolean | undefined;
}> = ({
  jobId,
  generator,
  version,
  kind = "RETRY",
  disabledBecause,
  values,
  suggested,
  budgetExhausted,
}) => {
  const form = FORMS[kind];
  return (
    <form
      method="post"
      action={adminPath(`/jobs/${encodeURIComponent(jobId)}/${form.path}`)}
      aria-describedby={
        disabledBecause ? "retry-disabled-reason" : budgetExhausted ? "budget-exhausted" : undefined
      }
    >
      <CsrfField />
      <fieldset disabled={Boolean(disabledBecause)}>
        <legend>{form.legend}</legend>
        <div class="form-grid">
          <div class="field">
            <label for="reasonCode">Reason code</label>
            <select id="reasonCode" name="reasonCode" required>
              <ReasonCodeOptions
                selected={values?.reasonCode}
                suggested={suggested && form.codes.includes(suggested) ? suggested : undefined}
                codes={form.codes}
              />
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
              {form.reasonHint} Recorded with your name; it cannot be changed later.
            </span>
          </div>
        </div>
        <CorrectedInputField
          value={values?.correctedInput}
          generator={generator}
          version={version}
        />
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
            {form.submit}
          </button>
          <span class="hint">{form.after}</span>
        </div>
      </fieldset>
    </form>
  );
};
