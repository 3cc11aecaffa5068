import type { FC } from "hono/jsx";
import type { DomainError } from "../../functions/domain/errors";
import type { GeneratorActivity } from "../../functions/domain/generators";
import { REASON_TEXT_MAX } from "../../functions/domain/retry-intents";
import { Actor } from "../components/actor";
import { CsrfField } from "../components/csrf-field";
import { DomainErrorNotice } from "../components/notice";
import { Time } from "../components/time";
import { adminPath } from "../context";
import { brakeHref } from "../forms";

export type Brake = "pause" | "resume";

const jobs = (n: number, adjective: string) =>
  n === 1 ? `1 ${adjective} job` : `${n} ${adjective} jobs`;

/** The sentence each confirmation leads with; tests and operators rely on its wording. */
export function brakeWarning(brake: Brake, name: string): string {
  return brake === "pause"
    ? `This will pause generator ${name}.`
    : `This will resume generator ${name}.`;
}

/** What pulling the brake does to the generator's jobs, with the number it applies to now. */
function consequences(brake: Brake, entry: GeneratorActivity): string {
  const name = entry.generator.name;
  const n = entry.pending;
  if (brake === "pause") {
    const waiting =
      n === 0
        ? "It has no pending job now."
        : `Its ${jobs(n, "pending")} ${n === 1 ? "stays" : "stay"} PENDING.`;
    return `No worker claims a job of ${name} until an admin resumes it. ${waiting} Jobs of ${name} submitted meanwhile, retries included, are accepted and wait PENDING too. None is failed, and jobs of ${name} running now finish as they would. Nothing else changes.`;
  }
  const waiting =
    n === 0
      ? "It has no waiting job now; its next jobs are claimed as usual."
      : `Its ${jobs(n, "waiting")} ${n === 1 ? "becomes" : "become"} claimable and the worker is woken: they run in the order they were created, like any other pending job.`;
  return `Workers claim jobs of ${name} again. ${waiting}`;
}

/**
 * The confirmation step of pausing or resuming a generator: what will happen to its jobs, with
 * their number, and a required reason. A page rather than a script dialog, so that it works
 * without JavaScript and Confirm is an ordinary POST form.
 */
export const GeneratorBrakePage: FC<{
  brake: Brake;
  entry: GeneratorActivity;
  error?: DomainError | undefined;
  text?: string | undefined;
}> = ({ brake, entry, error, text }) => {
  const { generator, version } = entry;
  const name = generator.name;
  const verb = brake === "pause" ? "Pause" : "Resume";
  return (
    <>
      <div class="page-head">
        <div>
          <div class="crumbs">
            <a href={adminPath("/generators")}>Generators</a> /{" "}
            <a href={`${adminPath("/generators")}#generator-${name}`} class="mono">
              {name}
            </a>{" "}
            / {brake}
          </div>
          <h1>
            {verb} generator <span class="mono">{name}</span>
          </h1>
        </div>
      </div>
      {error ? <DomainErrorNotice error={error} /> : null}
      <section class="panel confirm" aria-labelledby="confirm-title">
        <header>
          <h2 id="confirm-title">Confirm</h2>
        </header>
        <div class="panel-body">
          <p class="warning">{brakeWarning(brake, name)}</p>
          <p>{consequences(brake, entry)}</p>
          <p>
            {brake === "pause"
              ? "The pause, your name and your reason are recorded in the audit log, and every admin page names the pause until the generator is resumed."
              : "The resume, your name and your reason are recorded in the audit log, beside the pause it ends."}
          </p>
          <dl class="meta">
            <dt>Current version</dt>
            <dd class="mono">{version.version}</dd>
            <dt>Pending jobs now</dt>
            <dd>{entry.pending}</dd>
            {generator.pausedAt ? (
              <>
                <dt>Paused by</dt>
                <dd>
                  <Actor actor={generator.pausedBy} full />
                </dd>
                <dt>Paused</dt>
                <dd>
                  <Time value={generator.pausedAt} />
                </dd>
                <dt>Why</dt>
                <dd>{generator.pauseReason}</dd>
              </>
            ) : null}
          </dl>
          <form method="post" action={brakeHref(name, brake)} class="confirm-actions">
            <CsrfField />
            <div class="field">
              <label for="brake-reasonText">
                {brake === "pause" ? "Reason for pausing" : "Reason for resuming"}
              </label>
              <textarea
                id="brake-reasonText"
                name="reasonText"
                required
                maxlength={REASON_TEXT_MAX}
                rows={3}
                aria-describedby="brake-reasonText-hint"
              >
                {text ?? ""}
              </textarea>
              <span id="brake-reasonText-hint" class="hint">
                Required, up to {REASON_TEXT_MAX.toLocaleString("en")} characters.{" "}
                {brake === "pause"
                  ? "Say what is wrong with it, for whoever finds its jobs waiting."
                  : "Say what was dealt with."}
              </span>
            </div>
            <div class="actions">
              <button
                type="submit"
                class={brake === "pause" ? "button button-danger" : "button button-primary"}
              >
                Confirm: {brake} {name}
              </button>
              <a href={adminPath("/generators")}>Cancel</a>
            </div>
          </form>
        </div>
      </section>
    </>
  );
};
