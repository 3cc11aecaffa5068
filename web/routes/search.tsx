/**
 * `/admin?q=…`: a job, a retry intent or a retry batch found by its id or the first characters
 * of it. One match goes straight to its page; several are listed; none, or a text that cannot
 * be the start of an id, is said so on the page, with the search as it was typed.
 */
import type { DomainError } from "../../functions/domain/errors";
import { isDomainError } from "../../functions/domain/errors";
import { findByIdPrefix, idPrefix } from "../../functions/domain/search";
import type { AdminContext } from "../context";
import { statusOf } from "../forms";
import { matchHref, SearchPage } from "../pages/search-page";
import { proveSignIn } from "../sign-in";

const TITLE = "Find by id";

export async function searchIds(c: AdminContext, typed: string) {
  let prefix: string;
  try {
    prefix = idPrefix(typed);
  } catch (error) {
    if (!isDomainError(error)) throw error;
    // Nothing was read: the page's caller is proved on its own before the page is shown.
    await proveSignIn(c);
    return refusedSearch(c, typed, error);
  }
  const found = await findByIdPrefix(c.var.db, prefix);
  const [only] = found.matches;
  if (only && found.matches.length === 1) return c.redirect(matchHref(only), 303);
  c.status(only ? 200 : 404);
  return c.render(<SearchPage typed={typed} found={found} />, { title: TITLE, section: "jobs" });
}

function refusedSearch(c: AdminContext, typed: string, error: DomainError) {
  c.status(statusOf(error));
  return c.render(<SearchPage typed={typed} error={error} />, { title: TITLE, section: "jobs" });
}
