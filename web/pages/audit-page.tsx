import type { FC } from "hono/jsx";
import type { AuditEvent } from "../../db/schema";
import { AUDIT_TYPES } from "../../functions/domain/audit";
import type { DomainError } from "../../functions/domain/errors";
import { AuditTable } from "../components/audit-table";
import { FormRefusal } from "../components/form-refusal";
import { InstantField } from "../components/instant-field";
import { DomainErrorNotice } from "../components/notice";
import { adminPath } from "../context";

/** The audit page's filter as typed: `from` and `to` are times in UTC (or with an offset). */
export interface AuditFilter {
  subjectId?: string | undefined;
  type?: string | undefined;
  actor?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

const FILTER_FIELDS = ["subjectId", "type", "actor", "from", "to"] as const;

export function auditHref(filter: AuditFilter, cursor?: string): string {
  const params = new URLSearchParams();
  for (const name of FILTER_FIELDS) {
    const value = filter[name];
    if (value) params.set(name, value);
  }
  if (cursor) params.set("cursor", cursor);
  const query = params.toString();
  return adminPath(`/audit${query ? `?${query}` : ""}`);
}

/**
 * Every recorded event, newest first, filterable by subject, type, actor and time; a filter
 * refused (`error`) is shown beside the form, which keeps what was typed.
 */
export const AuditPage: FC<{
  filter: AuditFilter;
  events: AuditEvent[];
  nextCursor: string | null;
  paged: boolean;
  error?: DomainError | undefined;
}> = ({ filter, events, nextCursor, paged, error }) => (
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
      <div class="field">
        <label for="audit-actor">Actor</label>
        <input
          id="audit-actor"
          type="search"
          name="actor"
          value={filter.actor ?? ""}
          size={24}
          spellcheck={false}
          autocomplete="off"
          aria-describedby="audit-actor-hint"
        />
        <span id="audit-actor-hint" class="hint">
          A token's name, an email, or as recorded (token:…, worker:…, system).
        </span>
      </div>
      <InstantField id="audit-from" name="from" label="From (UTC)" value={filter.from} />
      <InstantField id="audit-to" name="to" label="To (UTC)" value={filter.to} />
      <button type="submit" class="button">
        Filter
      </button>
      {FILTER_FIELDS.some((name) => filter[name]) ? <a href={adminPath("/audit")}>Clear</a> : null}
    </form>
    {error ? (
      <FormRefusal>
        <DomainErrorNotice error={error} />
      </FormRefusal>
    ) : (
      <section class="panel" aria-label="Audit events">
        {events.length > 0 ? <AuditTable events={events} /> : <p class="empty">No events match.</p>}
        <div class="pager">
          {paged ? <a href={auditHref(filter)}>← Newest</a> : null}
          {nextCursor ? <a href={auditHref(filter, nextCursor)}>Older →</a> : null}
        </div>
      </section>
    )}
  </>
);
