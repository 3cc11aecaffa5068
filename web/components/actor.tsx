import type { FC } from "hono/jsx";
import { useRequestContext } from "hono/jsx-renderer";
import type { AdminEnv } from "../context";

/**
 * An actor as recorded (`token:<id>`, `access:<email>`, `worker:…`), shown by its token's name
 * when it has one: `token:k3j…` means little to a reader, "alice" does. The exact recorded
 * value stays in the tooltip.
 */
export const Actor: FC<{ actor: string | null | undefined; full?: boolean }> = ({
  actor,
  full,
}) => {
  const c = useRequestContext<AdminEnv>();
  if (!actor) return <span class="faint">—</span>;
  const name = c.get("tokenNames")?.get(actor);
  if (name) {
    return (
      <span class="actor" title={actor}>
        {name} <span class="faint">{full ? <span class="mono">{actor}</span> : "token"}</span>
      </span>
    );
  }
  return (
    <span class="actor mono" title={actor}>
      {actor.replace(/^access:/, "")}
    </span>
  );
};
