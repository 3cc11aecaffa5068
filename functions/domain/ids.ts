import { createId } from "@paralleldrive/cuid2";

/**
 * Ids the application makes for what is not a row of its own: a worker invocation, an alert
 * digest. Every row's id is drawn by the database (regent_new_id).
 */
export const newId = (): string => createId();
