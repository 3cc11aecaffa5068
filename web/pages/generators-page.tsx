import type { FC } from "hono/jsx";
import type { DomainError } from "../../functions/domain/errors";
import type { GeneratorActivity } from "../../functions/domain/generators";
import { Actor } from "../components/actor";
import { DomainErrorNotice, Notice } from "../components/notice";
import { Time } from "../components/time";
import { brakeHref } from "../forms";
import { jobsHref } from "./jobs-page";

/** Failed of finished, as a whole percentage; undefined while none has finished. */
export function failureRate(failed: number, finished: number): string | undefined {
  return finished === 0 ? undefined : `${Math.round((failed / finished) * 100)} %`;
}

const FailureRate: FC<{ failed: number; finished: number }> = ({ failed, finished }) => {
  const rate = failureRate(failed, finished);
  return rate ? (
    <>
      {rate}{" "}
      <span class="subtle nowrap">
        ({failed} of {finished})
      </span>
    </>
  ) : (
    <>
      <span class="faint" title="No job created in the last 24 hours has finished">
        —
      </span>{" "}
      <span class="subtle nowrap">(none finished)</span>
    </>
  );
};

/** Whether the generator runs or is held, and for a held one who held it, when and why. */
const BrakeState: FC<{ entry: GeneratorActivity }> = ({ entry }) => {
  const { generator } = entry;
  if (!generator.pausedAt) return <span class="badge badge-completed">running</span>;
  return (
    <div class="brake-state">
      <span class="badge badge-awaiting">paused</span>{" "}
      <span class="subtle">
        by <Actor actor={generator.pausedBy} />, <Time value={generator.pausedAt} relative />
      </span>
      <p class="pause-reason">{generator.pauseReason}</p>
    </div>
  );
};

/**
 * The generator catalog: each generator's current version, whether it is paused, its pending
 * jobs and how its last day's jobs fared; for an admin, the brake (pause or resume, each
 * behind a confirmation).
 */
export const GeneratorsPage: FC<{
  generators: GeneratorActivity[];
  canMutate: boolean;
  notice?: string | undefined;
  error?: DomainError | undefined;
}> = ({ generators, canMutate, notice, error }) => (
  <>
    <div class="page-head">
      <div>
        <h1>Generators</h1>
        <p class="subtle">
          The generators the workers run, as they published them. Pausing one is a brake: its jobs
          wait PENDING and none is failed; when it is resumed they run as usual.
        </p>
      </div>
    </div>
    {error ? <DomainErrorNotice error={error} /> : null}
    {notice ? (
      <Notice kind="success">
        <p>{notice}</p>
      </Notice>
    ) : null}
    <section class="panel" aria-labelledby="catalog-title">
      <header>
        <h2 id="catalog-title">Catalog</h2>
        <span class="subtle">
          failure rate: failed of finished, jobs created in the last 24 hours
        </span>
      </header>
      {generators.length > 0 ? (
        <div class="table-wrap" id="generators-table">
          <table class="grid cards">
            <thead>
              <tr>
                <th scope="col">Generator</th>
                <th scope="col">Version</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Pending jobs
                </th>
                <th scope="col" class="num">
                  Failure rate, 24 h
                </th>
                {canMutate ? <th scope="col">Brake</th> : null}
              </tr>
            </thead>
            <tbody>
              {generators.map((entry) => {
                const { generator, version } = entry;
                return (
                  <tr id={`generator-${generator.name}`}>
                    <th scope="row" class="mono row-head" data-label="Generator">
                      {generator.name}
                    </th>
                    <td class="mono" data-label="Version">
                      {version.version}
                    </td>
                    <td class="wrap" data-label="State">
                      <BrakeState entry={entry} />
                    </td>
                    <td class="num" data-label="Pending jobs">
                      <a href={jobsHref("PENDING", generator.name)}>{entry.pending}</a>
                    </td>
                    <td class="num" data-label="Failure rate, 24 h">
                      <FailureRate failed={entry.failedLastDay} finished={entry.finishedLastDay} />
                    </td>
                    {canMutate ? (
                      <td data-label="Brake">
                        <a
                          class="button button-small"
                          href={brakeHref(generator.name, generator.pausedAt ? "resume" : "pause")}
                        >
                          {/* One flex item: the button's gap would part the hidden name. */}
                          <span>
                            {generator.pausedAt ? "Resume" : "Pause"}
                            <span class="sr-only"> {generator.name}</span>…
                          </span>
                        </a>
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="empty">
          No generator is in the catalog yet: the workers publish the generators they run, and a
          deploy publishes the built-in ones.
        </p>
      )}
    </section>
    {canMutate ? null : (
      <p class="subtle">
        You are signed in as a viewer: you can read everything, but only an admin can pause or
        resume a generator.
      </p>
    )}
  </>
);
