import type { FC } from "hono/jsx";

/** Ids are long; lists show a recognisable prefix and keep the whole id in the link. */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 10)}…` : id;
}

export const JobLink: FC<{ id: string; short?: boolean }> = ({ id, short }) => (
  <a href={`/admin/jobs/${encodeURIComponent(id)}`} class="id" title={short ? id : undefined}>
    {short ? shortId(id) : id}
  </a>
);

export const IntentLink: FC<{ id: string; short?: boolean }> = ({ id, short }) => (
  <a
    href={`/admin/retry-intents/${encodeURIComponent(id)}`}
    class="id"
    title={short ? id : undefined}
  >
    {short ? shortId(id) : id}
  </a>
);

export const BatchLink: FC<{ id: string; short?: boolean }> = ({ id, short }) => (
  <a
    href={`/admin/retry-batches/${encodeURIComponent(id)}`}
    class="id"
    title={short ? id : undefined}
  >
    {short ? shortId(id) : id}
  </a>
);

/** An audit subject, linked when it is something the admin page shows. */
export const SubjectLink: FC<{ type: string; id: string }> = ({ type, id }) => {
  if (type === "job") return <JobLink id={id} short />;
  if (type === "retry_intent") return <IntentLink id={id} short />;
  if (type === "retry_batch") return <BatchLink id={id} short />;
  return (
    <span class="id" title={id}>
      {id.length > 12 ? `${id.slice(0, 10)}…` : id}
    </span>
  );
};
