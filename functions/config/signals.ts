/**
 * The surge rule, read by the API (which shows it) and by the worker (which alerts on it):
 * one definition, so that both call the same hour a surge.
 */
import { decimal, wholeNumber } from "./fields";

export const surgeVariables = {
  /** A surge: retries created in the last hour exceed this many times the trailing hourly mean… */
  RETRY_SURGE_FACTOR: decimal({ min: 1, max: 1000, fallback: 3 }),
  /** …and are at least this many. */
  RETRY_SURGE_MIN: wholeNumber({ min: 1, max: 1_000_000, fallback: 10 }),
};

export interface SurgeConfig {
  factor: number;
  min: number;
}

export const surgeConfigOf = (e: { RETRY_SURGE_FACTOR: number; RETRY_SURGE_MIN: number }) => ({
  factor: e.RETRY_SURGE_FACTOR,
  min: e.RETRY_SURGE_MIN,
});
