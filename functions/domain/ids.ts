import { createId, isCuid } from "@paralleldrive/cuid2";

/** Ids of jobs, outputs and intents: collision-resistant, unguessable, URL-safe. */
export const newId = (): string => createId();

/** A cheap shape check before an id reaches a query; ids are cuid2 strings. */
export const looksLikeId = (value: string): boolean =>
  value.length <= 64 && /^[a-z0-9]+$/.test(value) && isCuid(value);
