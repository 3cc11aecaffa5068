import type { FC } from "hono/jsx";
import type { DomainError } from "../../functions/domain/errors";
import {
  type IdKind,
  type IdMatch,
  type IdSearch,
  MAX_MATCHES,
} from "../../functions/domain/search";
import { FormRefusal } from "../components/form-refusal";
import { Notice } from "../components/notice";
import { Time } from "../components/time";
import { batchHref, intentHref, jobHref } from "../forms";
import { IdSearch as IdSearchForm } from "./jobs-page";

/** The page a match names. */
export function matchHref(match: IdMatch): string {
  if (match.kind === "job") return jobHref(match.id);
  if (match.kind === "intent") return intentHref(match.id);
  return batchHref(match.id);
}

/** The domain's refusal as a sentence of the page: capital first, full stop last. */
const sentence = (message: string) => `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;

const KIND_LABEL: Record<IdKind, string> = {
  job: "Job",
  intent: "Retry intent",
  batch: "Retry batch",
};

/** What a match's "about" column says. */
const ABOUT_LABEL: Record<IdKind, (about: string) => string> = {
  job: (generator) => `generator ${generator}`,
  intent: (jobId) => `for job ${jobId}`,
  batch: (count) => `${count} ${count === "1" ? "job" : "jobs"}`,
};

const Matches: FC<{ found: IdSearch }> = ({ found }) => (
  <section class="panel" aria-labelledby="matches-title">
    <header>
      <h2 id="matches-title">
        {found.matches.length} ids start with <span class="mono">{found.prefix}</span>
      </h2>
    </header>
    <div class="table-wrap" id="search-matches">
      <table class="grid">
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col">Id</th>
            <th scope="col">Status</th>
            <th scope="col">About</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {found.matches.map((match) => (
            <tr>
              <td>{KIND_LABEL[match.kind]}</td>
              <td>
                <a href={matchHref(match)} class="id">
                  {match.id}
                </a>
              </td>
              <td class="mono">{match.state}</td>
              <td class="subtle">{ABOUT_LABEL[match.kind](match.about)}</td>
              <td>
                <Time value={match.createdAt} relative />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    {found.more ? (
      <p class="subtle panel-body">
        Only the first {MAX_MATCHES} of each kind are shown: type more of the id to narrow it.
      </p>
    ) : null}
  </section>
);

/**
 * A search by id that did not lead straight to one page: the ids it matched, or why it matched
 * none or could not be read, with the search box holding what was typed.
 */
export const SearchPage: FC<{
  typed: string;
  found?: IdSearch | undefined;
  error?: DomainError | undefined;
}> = ({ typed, found, error }) => (
  <>
    <div class="page-head">
      <div>
        <h1>Find by id</h1>
        <p class="subtle">
          Jobs, retry intents and retry batches whose id starts with what you type.
        </p>
      </div>
      <IdSearchForm value={typed} />
    </div>
    {error ? (
      <FormRefusal>
        <Notice kind="error">
          <p>
            <strong class="code">{error.code}</strong>
            {sentence(error.message)}
          </p>
        </Notice>
      </FormRefusal>
    ) : null}
    {found && found.matches.length === 0 ? (
      <Notice kind="info">
        <p>
          No job, retry intent or retry batch has an id that starts with{" "}
          <span class="mono">{found.prefix}</span>. Check that it was copied whole: ids are a letter
          followed by 24 hex digits.
        </p>
      </Notice>
    ) : null}
    {found && found.matches.length > 1 ? <Matches found={found} /> : null}
  </>
);
