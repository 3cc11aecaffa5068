/**
 * What a generator is and how the worker finds one. Only the execution plane imports this
 * folder (an import rule in .dependency-cruiser.cjs keeps it so); the API and the admin page
 * know generators through the catalog the workers publish (`catalogOf`).
 */
import { z } from "zod";
import { GENERATOR_NAME, GENERATOR_VERSION, type GeneratorManifest } from "../../../db/catalog";
import { UPSTREAM_EXCERPT_CHARS, type UpstreamAnswer } from "../../../db/schema";

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

export interface Generator<Input = unknown> {
  /** Lower-case letters, digits, `.`, `_` and `-`, starting with a letter; at most 64. */
  name: string;
  /**
   * Stored with every output, so that an output says which code produced it; published with
   * the input schema, once for good: a generator whose input changes takes a new version.
   */
  version: string;
  /**
   * What a job's input must be. The API checks a submitted input against its JSON Schema
   * (published to the catalog); the worker checks it again before `run`, since a job may wait
   * across a deployment that changed it, and fails the job INVALID_INPUT otherwise.
   */
  inputSchema: z.ZodType<Input>;
  /**
   * Outgoing requests (fetch) one run makes at most; DEFAULT_SUBREQUESTS when unset. A Worker
   * invocation may make only so many (functions/execution/subrequests.ts), and claims no more
   * jobs than it can run within them.
   */
  subrequests?: number;
  /**
   * Returns the output (any JSON value) or throws; a GeneratorError's code becomes the job's
   * error code. `input` is what `inputSchema` made of the job's input.
   */
  run(input: Input, ctx: GeneratorContext): unknown | Promise<unknown>;
}

/** What a generator that does not say makes: one request a run, as `http` does. */
export const DEFAULT_SUBREQUESTS = 1;

/**
 * A failure a generator reports on purpose: its code is recorded on the FAILED job, with what
 * the service it called answered, when given (bounded here, whatever the generator passed).
 */
export class GeneratorError extends Error {
  override readonly name = "GeneratorError";
  readonly upstream: UpstreamAnswer | undefined;
  constructor(
    readonly code: string,
    message: string,
    upstream?: UpstreamAnswer,
  ) {
    super(message);
    this.upstream = upstream && boundedAnswer(upstream);
  }
}

/** Longest status text or Content-Type kept: both are one line of a header. */
const HEADER_CHARS = 200;

/**
 * A service's answer as a job's error may hold it: the body cut to UPSTREAM_EXCERPT_CHARS (never
 * inside a surrogate pair, which jsonb would refuse) and, like the header lines, without control
 * characters but line breaks and tabs (U+0000 cannot be stored at all).
 */
function boundedAnswer(answer: UpstreamAnswer): UpstreamAnswer {
  const excerpt = answer.excerpt === null ? null : withoutControls(answer.excerpt, true);
  const cut = excerpt !== null && excerpt.length > UPSTREAM_EXCERPT_CHARS;
  return {
    status: answer.status,
    statusText: cutAt(withoutControls(answer.statusText, false), HEADER_CHARS),
    contentType:
      answer.contentType === null
        ? null
        : cutAt(withoutControls(answer.contentType, false), HEADER_CHARS),
    excerpt: excerpt === null ? null : cutAt(excerpt, UPSTREAM_EXCERPT_CHARS),
    truncated: answer.truncated || cut,
  };
}

/** Control characters out (C0, DEL, C1); in a body, line breaks and tabs stay. */
function withoutControls(text: string, keepLines: boolean): string {
  const lines = text.replaceAll("\r\n", "\n");
  return keepLines ? lines.replace(/[^\P{Cc}\n\t]/gu, "") : lines.replace(/\p{Cc}/gu, " ");
}

function cutAt(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const end = /[\ud800-\udbff]/.test(text.charAt(limit - 1)) ? limit - 1 : limit;
  return text.slice(0, end);
}

export type GeneratorRegistry = ReadonlyMap<string, Generator>;

/**
 * A registry from a list; two generators with one name, a name or version the catalog cannot
 * hold, an input schema JSON Schema cannot express, or a negative or fractional count of
 * subrequests, is a programming error.
 */
export function createRegistry(generators: readonly Generator[]): GeneratorRegistry {
  const registry = new Map<string, Generator>();
  for (const generator of generators) {
    if (registry.has(generator.name)) {
      throw new Error(`two generators are named ${generator.name}`);
    }
    if (!GENERATOR_NAME.test(generator.name)) {
      throw new Error(
        `generator name ${JSON.stringify(generator.name)} must be lower-case letters, digits, . _ - (a letter first, at most 64)`,
      );
    }
    if (!GENERATOR_VERSION.test(generator.version)) {
      throw new Error(
        `generator ${generator.name}'s version must be 1 to 100 printable characters without spaces`,
      );
    }
    const { subrequests = DEFAULT_SUBREQUESTS } = generator;
    if (!Number.isInteger(subrequests) || subrequests < 0) {
      throw new Error(
        `generator ${generator.name}'s subrequests must be a whole number, 0 or more`,
      );
    }
    registry.set(generator.name, generator);
  }
  catalogOf(registry);
  return registry;
}

/** What the registry's generators publish to the catalog: the input schemas as JSON Schema. */
export function catalogOf(registry: GeneratorRegistry): GeneratorManifest[] {
  return [...registry.values()].map((generator) => ({
    name: generator.name,
    version: generator.version,
    inputSchema: z.toJSONSchema(generator.inputSchema, { target: "draft-2020-12", io: "input" }),
  }));
}
