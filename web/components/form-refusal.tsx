import type { Child, FC } from "hono/jsx";

/**
 * Where a refused form says why, beside the form: the page comes back at the form's own
 * address with this focused (`autofocus`, no script), so the browser scrolls to it and a screen
 * reader reads it first, and the form below it keeps what was typed.
 */
export const FormRefusal: FC<{ id?: string; children: Child }> = ({
  id = "form-refusal",
  children,
}) => (
  <div id={id} class="form-refusal" tabindex={-1} autofocus>
    {children}
  </div>
);
