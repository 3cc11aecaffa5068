/** The audit log, filtered by subject, type, actor and time, newest first. */
import { Hono } from "hono";
import { listAudit } from "../../functions/domain/audit";
import { DomainError, isDomainError } from "../../functions/domain/errors";
import { parseInstant } from "../../functions/domain/instants";
import { instant } from "../batch-filter";
import type { AdminEnv } from "../context";
import { queryValue, statusOf } from "../forms";
import { type AuditFilter, AuditPage } from "../pages/audit-page";
import { proveSignIn } from "../sign-in";

const PAGE_SIZE = 50;

const LABEL = { from: "From", to: "To" } as const;

/**
 * The filter's time window as instants: a `datetime-local` input's value is read as UTC, as
 * every time on these pages is shown; an instant with its own offset is read as it says.
 * VALIDATION_FAILED names the field at fault.
 */
function windowOf(filter: AuditFilter): { after?: string; before?: string } {
  const read = (field: "from" | "to") => {
    const typed = filter[field];
    if (!typed) return undefined;
    const parsed = parseInstant(instant(typed));
    if (!parsed) {
      throw new DomainError(
        "VALIDATION_FAILED",
        `${LABEL[field]} must be a date and time in UTC, such as 2026-11-29T10:00:00, or an instant with its offset, such as 2026-11-29T10:00:00+01:00`,
        { field },
      );
    }
    return parsed;
  };
  const after = read("from");
  const before = read("to");
  if (after && before && after >= before) {
    throw new DomainError("VALIDATION_FAILED", "To must be later than From", { field: "to" });
  }
  return { ...(after ? { after } : {}), ...(before ? { before } : {}) };
}

export const auditPages = new Hono<AdminEnv>();

auditPages.get("/", async (c) => {
  const text = (name: string) => c.req.query(name)?.trim() || undefined;
  const filter: AuditFilter = {
    subjectId: text("subjectId"),
    type: queryValue(c, "type"),
    actor: text("actor"),
    from: text("from"),
    to: text("to"),
  };
  let window: { after?: string; before?: string };
  try {
    window = windowOf(filter);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    // Nothing was read: the page's caller is proved on its own before the page is shown.
    await proveSignIn(c);
    c.status(statusOf(error));
    return c.render(
      <AuditPage filter={filter} events={[]} nextCursor={null} paged={false} error={error} />,
      {
        title: "Audit",
        section: "audit",
      },
    );
  }
  const cursor = queryValue(c, "cursor");
  const page = await listAudit(c.var.db, {
    subjectId: filter.subjectId,
    type: filter.type,
    actor: filter.actor,
    ...window,
    limit: PAGE_SIZE,
    cursor,
  });
  return c.render(
    <AuditPage
      filter={filter}
      events={page.items}
      nextCursor={page.nextCursor}
      paged={Boolean(cursor)}
    />,
    { title: "Audit", section: "audit" },
  );
});
