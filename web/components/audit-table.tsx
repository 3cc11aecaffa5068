import type { FC } from "hono/jsx";
import type { AuditEvent } from "../../db/schema";
import { Actor } from "./actor";
import { ReadOnlyJsonViewer } from "./json-viewer";
import { SubjectLink } from "./links";
import { Time } from "./time";

/**
 * Audit events as recorded; `showSubject` is off on a page that is itself about the subject. With
 * subjects it is the audit page's own list, which a skip link leads to. Each cell names its column
 * (`data-label`) for the cards a narrow screen shows instead of the table.
 */
export const AuditTable: FC<{ events: AuditEvent[]; showSubject?: boolean }> = ({
  events,
  showSubject = true,
}) => (
  <div class="table-wrap" id={showSubject ? "audit-events" : undefined}>
    <table class="grid cards">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">Event</th>
          <th scope="col">Actor</th>
          {showSubject ? <th scope="col">Subject</th> : null}
          <th scope="col">Request</th>
          <th scope="col">Data</th>
        </tr>
      </thead>
      <tbody>
        {events.map((event) => (
          <tr>
            <td data-label="When">
              <Time value={event.createdAt} relative />
            </td>
            <td class="mono nowrap" data-label="Event">
              {event.type}
            </td>
            <td data-label="Actor">
              <Actor actor={event.actor} />
            </td>
            {showSubject ? (
              <td class="nowrap" data-label="Subject">
                <span class="faint">{event.subjectType}</span>{" "}
                <SubjectLink type={event.subjectType} id={event.subjectId} />
              </td>
            ) : null}
            <td class="subtle" data-label="Request">
              {event.requestId ? (
                <span class="mono" title={event.userAgent ?? undefined}>
                  {event.requestId.slice(0, 8)}
                  {event.ip ? ` · ${event.ip}` : ""}
                </span>
              ) : (
                <span class="faint">—</span>
              )}
            </td>
            <td data-label="Data">
              {Object.keys(event.data ?? {}).length > 0 ? (
                <ReadOnlyJsonViewer value={event.data} label="data" open={false} />
              ) : (
                <span class="faint">—</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

/** The audit trail of one subject, as a panel of its page. */
export const AuditPanel: FC<{ events: AuditEvent[] }> = ({ events }) => (
  <section class="panel" aria-labelledby="audit-title">
    <header>
      <h2 id="audit-title">Audit trail</h2>
    </header>
    {events.length > 0 ? (
      <AuditTable events={events} showSubject={false} />
    ) : (
      <p class="empty">No events.</p>
    )}
  </section>
);
