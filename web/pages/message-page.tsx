import type { Child, FC } from "hono/jsx";
import { adminPath } from "../context";

/** A whole page for a refusal or a failure: what happened, in a sentence (the page's heading), and a way back. */
export const MessagePage: FC<{ heading: string; children?: Child; requestId?: string }> = ({
  heading,
  children,
  requestId,
}) => (
  <section class="panel confirm" aria-labelledby="message-title">
    <header>
      <h1 id="message-title">{heading}</h1>
    </header>
    <div class="panel-body">
      {children}
      <p>
        <a href={adminPath()}>Back to the jobs</a>
        {requestId ? <span class="faint"> · request {requestId}</span> : null}
      </p>
    </div>
  </section>
);
