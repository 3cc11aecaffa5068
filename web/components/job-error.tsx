/** A failed job's error on its page: whole, wrapping, and what the service it called answered. */
import type { FC } from "hono/jsx";
import { type JobError, UPSTREAM_EXCERPT_CHARS, type UpstreamAnswer } from "../../db/schema";
import { Time } from "./time";

/** `503 Service Unavailable`: the status alone when the service sent no text (HTTP/2 sends none). */
const statusLine = (upstream: UpstreamAnswer) =>
  upstream.statusText ? `${upstream.status} ${upstream.statusText}` : String(upstream.status);

/**
 * The body's beginning as the service sent it, in a <pre> that keeps its lines and wraps long
 * ones. hono/jsx escapes it like any text: markup in it is shown, never rendered.
 */
const AnswerBody: FC<{ upstream: UpstreamAnswer }> = ({ upstream }) => {
  if (upstream.excerpt === null) {
    return (
      <p class="subtle">Its body is not text ({upstream.contentType}), so none of it was kept.</p>
    );
  }
  if (upstream.excerpt === "") return <p class="subtle">Its body was empty.</p>;
  return (
    <>
      <pre class="upstream-excerpt" id="upstream-excerpt">
        {upstream.excerpt}
      </pre>
      <p class="subtle">
        {upstream.truncated
          ? `The first ${UPSTREAM_EXCERPT_CHARS.toLocaleString("en-US")} characters of a longer answer. `
          : null}
        The values of the generator's configured credentials are blanked out as [redacted].
      </p>
    </>
  );
};

/**
 * The error of a FAILED job: its code and message for everyone, in full. When a service
 * answered, its status line and Content-Type follow; the body's beginning only for admins
 * (`showBody`), since it may quote the service's data, and viewers are told it is there.
 */
export const JobErrorBox: FC<{
  error: JobError;
  finishedAt: Date | null;
  showBody: boolean;
}> = ({ error, finishedAt, showBody }) => {
  const { upstream } = error;
  return (
    <div class="error-box" id="job-error">
      <p>
        <span class="code">{error.code}</span> <span class="error-message">{error.message}</span>
        <span class="faint">
          {" "}
          · failed <Time value={finishedAt} relative />
        </span>
      </p>
      {upstream ? (
        <div class="upstream" id="upstream-answer">
          <p>
            The generator service answered <strong class="mono">{statusLine(upstream)}</strong>
            {upstream.contentType ? (
              <>
                {" "}
                with <span class="mono">{upstream.contentType}</span>
              </>
            ) : null}
            .
          </p>
          {showBody ? (
            <AnswerBody upstream={upstream} />
          ) : (
            <p class="subtle">
              What its answer said is kept for admins: it may quote the service's data.
            </p>
          )}
        </div>
      ) : null}
    </div>
  );
};
