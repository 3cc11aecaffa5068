import type { FC } from "hono/jsx";
import { dateTimeLocalValue } from "../batch-filter";

/**
 * A field for an instant in UTC, to the second, as every filter of these pages takes one (a
 * failure window, an audit window): `value` is the instant as the filter holds it, or as it was
 * typed when it was refused.
 */
export const InstantField: FC<{
  id: string;
  name: string;
  label: string;
  value: string | undefined;
}> = ({ id, name, label, value }) => (
  <div class="field">
    <label for={id}>{label}</label>
    <input id={id} type="datetime-local" name={name} step={1} value={dateTimeLocalValue(value)} />
  </div>
);
