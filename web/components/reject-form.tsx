import type { Child, FC } from "hono/jsx";
import type { DomainError } from "../../functions/domain/errors";
import { REASON_TEXT_MAX } from "../../functions/domain/retry-intents";
import { CsrfField } from "./csrf-field";
import { FormRefusal } from "./form-refusal";
import { DomainErrorNotice } from "./notice";

/**
 * The form that rejects a retry decision (one intent, or a batch's pending intents) with a
 * required reason; `text` keeps what was typed when the rejection was refused, and `error`,
 * when given, says why beside the form, focused.
 */
export const RejectForm: FC<{
  action: string;
  idPrefix: string;
  text?: string | undefined;
  hint?: string;
  error?: DomainError | undefined;
  children: Child;
}> = ({ action, idPrefix, text, hint, error, children }) => (
  <form method="post" action={action}>
    <CsrfField />
    {error ? (
      <FormRefusal id={`${idPrefix}-refusal`}>
        <DomainErrorNotice error={error} />
      </FormRefusal>
    ) : null}
    <div class="field">
      <label for={`${idPrefix}-reasonText`}>Reason for rejecting</label>
      <textarea
        id={`${idPrefix}-reasonText`}
        name="reasonText"
        required
        maxlength={REASON_TEXT_MAX}
        rows={2}
        aria-describedby={hint ? `${idPrefix}-hint` : undefined}
      >
        {text ?? ""}
      </textarea>
      {hint ? (
        <span id={`${idPrefix}-hint`} class="hint">
          {hint}
        </span>
      ) : null}
    </div>
    <button type="submit" class="button button-danger">
      {children}
    </button>
  </form>
);
