import type { FC } from "hono/jsx";
import type { AuditEvent } from "../../db/schema";
import { AUDIT_TYPES } from "../../functions/domain/audit";
import { AuditTable } from "../components/audit-table";
import { adminPath } from "../context";

export interface AuditFilter {
  subjectId?: string | undefined;
  type?: string | undefined;
}

export function auditHref(filter: AuditFilter, cursor?: string): string {
  const params = new URLSearchParams();
  if (filter.subjectId) params.set("subjectId", filter.subjectId);
  if (filter.type) params.set("type", filter.type);
  if (cursor) params.set("cursor", cursor);
  const query = params.toString();
  return adminPath(`/audit${query ? `?${query}` : ""}`);
}

/** Every recorded event, newest first, filterable by subject and type. */
export const AuditPage: FC<{
  filter: AuditFilter;
  events: AuditEvent[];
  nextCursor: string | null;
  paged: boolean;
}> = ({ filter, events, nextCursor, paged }) => (
  <>
    <div class="page-head">
      <div>
        <h1>Audit</h1>
        <p class="subtle">
          Every change is recorded in the same transaction as the change itself. Events are never
          changed or deleted.
        </p>
      </div>
    </div>
    <form method="get" action={adminPath("/audit")} class="filters">
      <div class="field">
        <label for="audit-subject">Subject id</label>
        <input
          id="audit-subject"
          type="search"
          name="subjectId"
          value={filter.subjectId ?? ""}
          size={30}
          spellcheck={false}
        />
      </div>
      <div class="field">
        <label for="audit-type">Event type</label>
        <select id="audit-type" name="type">
          <option value="" selected={!filter.type}>
            any
          </option>
          {AUDIT_TYPES.map((type) => (
            <option value={type} selected={type === filter.type}>
              {type}
            </option>
          ))}
        </select>
      </div>
      <button type="submit" class="button">
        Filter
      </button>
      {filter.subjectId || filter.type ? <a href={adminPath("/audit")}>Clear</a> : null}
    </form>
    <section class="panel" aria-label="Audit events">
      {events.length > 0 ? <AuditTable events={events} /> : <p class="empty">No events match.</p>}
      <div class="pager">
        {paged ? <a href={auditHref(filter)}>← Newest</a> : null}
        {nextCursor ? <a href={auditHref(filter, nextCursor)}>Older →</a> : null}
      </div>
    </section>
  </>
);
