import { GENERATOR_NAME } from "../../db/catalog";
import { DomainError } from "../domain/errors";
import { ID_PATTERN } from "./schemas";

/**
 * Path ids are checked for shape before they reach a query: something that cannot be one of our
 * ids is simply not found (404), and never a driver error (500).
 */
const shown = (id: string) => id.slice(0, 80);

export function jobId(id: string): string {
  if (!ID_PATTERN.test(id)) {
    throw new DomainError("JOB_NOT_FOUND", `no job with id ${shown(id)}`, { jobId: shown(id) });
  }
  return id;
}

export function intentId(id: string): string {
  if (!ID_PATTERN.test(id)) {
    throw new DomainError("INTENT_NOT_FOUND", `no retry intent with id ${shown(id)}`, {
      intentId: shown(id),
    });
  }
  return id;
}

export function generatorName(name: string): string {
  if (!GENERATOR_NAME.test(name)) {
    throw new DomainError(
      "GENERATOR_NOT_FOUND",
      `no generator named "${shown(name)}" is in the catalog`,
      {
        generator: shown(name),
      },
    );
  }
  return name;
}
