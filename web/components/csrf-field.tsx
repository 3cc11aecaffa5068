import type { FC } from "hono/jsx";
import { useRequestContext } from "hono/jsx-renderer";
import type { AdminEnv } from "../context";

export const CSRF_FIELD = "_csrf";

/** The session's form token; every POST form but sign-in carries it back. */
export const CsrfField: FC = () => {
  const c = useRequestContext<AdminEnv>();
  return <input type="hidden" name={CSRF_FIELD} value={c.get("csrfToken")} />;
};
