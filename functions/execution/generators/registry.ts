/**
 * What a generator is and how the worker finds one. Only the execution plane imports this
 * folder (an import rule in .dependency-cruiser.cjs keeps it so).
 */

/** The job as the worker claimed it: what a generator may know about its work. */
export interface ClaimedJob {
  id: string;
  generator: string;
  input: unknown;
  retryOfJobId: string | null;
  retryIntentId: string | null;
  /** 0 for an original job, 1 for its first retry, and so on. */
  retryDepth: number;
  /** When the claim lapses (the worker's clock estimate, in ms since the epoch). */
  leaseExpiresAtMs: number;
}

export interface GeneratorContext {
  job: ClaimedJob;
  retryDepth: number;
  /** Aborted when the per-job timeout (JOB_TIMEOUT_MS) passes or the worker stops. */
  signal: AbortSignal;
}

export interface Generator {
  name: string;
  /** Stored with every output, so that an output says which code produced it. */
  version: string;
  /** Returns the output (any JSON value) or throws; a GeneratorError's code becomes the job's error code. */
  run(input: unknown, ctx: GeneratorContext): unknown | Promise<unknown>;
}

/** A failure a generator reports on purpose: its code is recorded on the FAILED job. */
export class GeneratorError extends Error {
  override readonly name = "GeneratorError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type GeneratorRegistry = ReadonlyMap<string, Generator>;

/** A registry from a list; two generators with one name is a programming error. */
export function createRegistry(generators: readonly Generator[]): GeneratorRegistry {
  const registry = new Map<string, Generator>();
  for (const generator of generators) {
    if (registry.has(generator.name)) {
      throw new Error(`two generators are named ${generator.name}`);
    }
    registry.set(generator.name, generator);
  }
  return registry;
}
