import type { FC } from "hono/jsx";
import type { RetryIntentKind, RetryReasonCode } from "../../db/schema";
import type { DomainError } from "../../functions/domain/errors";
import {
  CHANGING_REASONS,
  REASON_CODES,
  REASON_TEXT_MAX,
} from "../../functions/domain/retry-intents";
import { CsrfField } from "../components/csrf-field";
import { FormRefusal } from "../components/form-refusal";
import { DomainErrorNotice, Notice } from "../components/notice";
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
 * The reason code options. What was chosen wins (a form sent back keeps even an empty choice);
 * otherwise the code the failure suggests is preselected, and it stays marked "(suggested)"
 * either way so the admin sees it was a guess. With neither, the empty option is selected: the
 * select is required, so nothing is recorded that the admin did not choose.
 */
export const ReasonCodeOptions: FC<{
  selected?: string | undefined;
  suggested?: RetryReasonCode | undefined;
  codes?: readonly RetryReasonCode[];
}> = ({ selected, suggested, codes = REASON_CODES }) => {
  const chosen = selected ?? suggested;
  return (
    <>
      <option value="" selected={!chosen || !codes.includes(chosen as RetryReasonCode)}>
        Choose a reason code…
      </option>
      {codes.map((code) => (
        <option value={code} selected={chosen === code}>
          {code}
          {code === suggested ? " (suggested)" : ""} · {REASON_HINT[code]}
        </option>
      ))}
    </>
  );
};

/** "BAD_INPUT, IMPROVED_PROMPT or OTHER": the codes that may change the input or supersede. */
export const CHANGING_LIST = `${CHANGING_REASONS.slice(0, -1).join(", ")} or ${CHANGING_REASONS.at(-1)}`;

/** What the form says, for each kind of intent it records. */
const FORMS: Record<
  RetryIntentKind,
  {
    legend: string;
    reasonHint: string;
    submit: string;
    after: string;
    codes: readonly RetryReasonCode[];
  }
> = {
  RETRY: {
    legend: "Create a retry intent",
    reasonHint: "Why a retry should succeed now.",
    submit: "Create retry intent",
    after: "Nothing runs yet: the intent must then be executed.",
    codes: REASON_CODES,
  },
  SUPERSEDE: {
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

const detail = (error: DomainError, key: string) => error.details?.[key];

/**
 * A refusal of the form in the page's words, for the refusals about its own fields (what to
 * change, named as the form names it); undefined for the others, which the domain's sentence
 * and its way on say well enough.
 */
function formWords(error: DomainError): string | undefined {
  if (error.code === "RETRY_BUDGET_EXHAUSTED") {
    const budget = Number(detail(error, "budget"));
    return `This chain has used its retry budget of ${budget} ${budget === 1 ? "retry" : "retries"}. To record another attempt anyway, tick "Override the retry budget", choose reason code OTHER, and say in the reason why this chain deserves it.`;
  }
  if (error.code !== "VALIDATION_FAILED") return undefined;
  switch (detail(error, "field")) {
    case "overrideBudget":
      return `Going past the retry budget is an exception, and an exception is recorded with reason code OTHER: choose OTHER, and say in the reason why this chain deserves another attempt.`;
    case "reasonCode":
      return detail(error, "kind") === "SUPERSEDE"
        ? `Superseding a result says what was wrong with it: choose ${CHANGING_LIST}.`
        : "Choose a reason code: it records why the job should be run again.";
    case "reasonText":
      return `Write the reason, up to ${REASON_TEXT_MAX} characters: it is recorded with your name.`;
    case "input":
      return detail(error, "reasonCode") === undefined
        ? undefined
        : `A corrected input goes with reason code ${CHANGING_LIST}: ${String(detail(error, "reasonCode"))} says nothing in the job was wrong. Choose one of those, or empty the corrected input box to run the job's own input.`;
    default:
      return undefined;
  }
}

/** Why the form was refused, beside it and focused; what was typed stays in the form below. */
const FormRefused: FC<{ error: DomainError }> = ({ error }) => {
  const words = formWords(error);
  return (
    <FormRefusal id="retry-form-refusal">
      {words === undefined ? (
        <DomainErrorNotice error={error} />
      ) : (
        <Notice kind="error">
          <p>
            <strong class="code">{error.code}</strong>
            {words} Nothing was recorded.
          </p>
        </Notice>
      )}
    </FormRefusal>
  );
};

/**
 * The create-intent form: a retry of a FAILED job, or (`kind` SUPERSEDE) a new job to replace a
 * COMPLETED job's result, each with an optional corrected input. When a job cannot be retried
 * the retry form is still shown, disabled, under the sentence that says why, so the operator
 * learns the rule where they meet it. When the chain has used its retry budget it offers the
 * override, which the domain accepts only with reason code OTHER. It posts to the job's own
 * page, naming its kind, so that a refusal (`error`) is shown at the address the admin was on,
 * beside the form.
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
  /** The refusal of this form as it was sent. */
  error?: DomainError | undefined;
}> = ({
  jobId,
  generator,
  version,
  kind = "RETRY",
  disabledBecause,
  values,
  suggested,
  budgetExhausted,
  error,
}) => {
  const form = FORMS[kind];
  return (
    <form
      method="post"
      action={adminPath(`/jobs/${encodeURIComponent(jobId)}`)}
      aria-describedby={
        disabledBecause ? "retry-disabled-reason" : budgetExhausted ? "budget-exhausted" : undefined
      }
    >
      <CsrfField />
      <input type="hidden" name="kind" value={kind} />
      {error ? <FormRefused error={error} /> : null}
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
