/**
 * The rule each configuration variable must meet, written once. The API's and the worker's
 * environment schemas (./api.ts, ./worker.ts) are built from these, and the deploy check
 * (infra/config.ts) applies those schemas, so a value is judged the same way at deploy time and
 * at start.
 */
import { z } from "zod";

/**
 * Text that is unset when empty or blank, as .env files, dashboards and CI forms leave a
 * variable; otherwise trimmed, since a stray space is never meant.
 */
export const optionalText = z
  .string()
  .optional()
  .transform((value) => value?.trim() || undefined);

/** Case-insensitive, so that shells, TOML and YAML habits all work. */
const FLAG_SPELLINGS = new Map([
  ["true", true],
  ["1", true],
  ["yes", true],
  ["on", true],
  ["false", false],
  ["0", false],
  ["no", false],
  ["off", false],
]);

/**
 * An on/off setting, off when unset. One set of spellings for every runtime and the deploy
 * check: a value one of them read as "on" was refused by another.
 */
export const flag = optionalText.transform((value, ctx) => {
  if (value === undefined) return false;
  const read = FLAG_SPELLINGS.get(value.toLowerCase());
  if (read === undefined) {
    ctx.addIssue({
      code: "custom",
      message: 'must be "true" or "false" (1/0, yes/no and on/off are read the same way)',
    });
    return z.NEVER;
  }
  return read;
});

/**
 * A whole number within bounds, `fallback` when unset. The text is read as JavaScript's
 * Number() reads it (` 42 `, `1e3`), as the worker always has, so no value that started a
 * runtime before is refused now. `maxReason` says why a maximum exists where it is not obvious.
 */
export function wholeNumber(bounds: WholeNumberBounds & { fallback: number }) {
  return optionalText.pipe(boundedWholeNumber(bounds).default(bounds.fallback));
}

/**
 * A whole number within bounds, undefined when unset: for a setting whose default depends on
 * where it runs, which the reader of the setting applies.
 */
export function optionalWholeNumber(bounds: WholeNumberBounds) {
  return optionalText.pipe(boundedWholeNumber(bounds).optional());
}

interface WholeNumberBounds {
  min: number;
  max: number;
  maxReason?: string;
}

function boundedWholeNumber({ min, max, maxReason }: WholeNumberBounds) {
  return z.coerce
    .number<string>({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, maxReason ? `must be at most ${max}: ${maxReason}` : `must be at most ${max}`);
}

const EMAIL_OR_DOMAIN = /^([^@\s]+@[^@\s]+|@[^@\s]+)$/;

/**
 * Comma- or whitespace-separated e-mail addresses, or `@domain` for everyone at that domain,
 * lower-cased because Access reports addresses in whatever case the identity provider keeps.
 * The message names the bad entries: they are addresses, never secrets.
 */
export const emailList = optionalText.transform((value, ctx) => {
  const entries = (value ?? "")
    .split(/[\s,]+/)
    .map((entry) => entry.toLowerCase())
    .filter((entry) => entry.length > 0);
  const bad = entries.filter((entry) => !EMAIL_OR_DOMAIN.test(entry));
  if (bad.length > 0) {
    ctx.addIssue({
      code: "custom",
      message: `each entry is an e-mail address or @domain (not ${bad.join(", ")})`,
    });
    return z.NEVER;
  }
  return entries;
});

/** The Cloudflare Access team's host; `https://` and a trailing slash are tolerated as pasted. */
export const accessTeamDomain = optionalText.pipe(
  z
    .string()
    .regex(
      /^(https:\/\/)?[a-z0-9-]+(\.[a-z0-9-]+)+\/?$/i,
      "must be the team's host name, such as myteam.cloudflareaccess.com",
    )
    .optional(),
);

/** A PostgreSQL connection string, for node-postgres and the Neon driver alike. */
export const postgresUrl = optionalText.pipe(
  z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
);

/** An endpoint to POST to: never `file:` or another scheme a fetch could be tricked with. */
export const httpUrl = optionalText.pipe(
  z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
);

const headerRecord = z.record(z.string(), z.string());

/**
 * Extra request headers as a JSON object of strings, `{}` when unset. The message never quotes
 * the text: it usually carries a credential.
 */
export const headersJson = optionalText.transform((value, ctx) => {
  if (value === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    json = undefined;
  }
  const parsed = headerRecord.safeParse(json);
  if (!parsed.success) {
    ctx.addIssue({
      code: "custom",
      message: 'must be a JSON object of strings, e.g. {"authorization":"Bearer …"}',
    });
    return z.NEVER;
  }
  return parsed.data;
});

/** It signs admin session cookies: a short key makes a forged admin session a matter of time. */
export const sessionSecret = optionalText.pipe(
  z
    .string()
    .min(32, "must be at least 32 characters (e.g. openssl rand -base64 48)")
    .max(512, "must be at most 512 characters")
    .optional(),
);

/** A credential (an admin token, a metrics token, a signing secret): long enough not to be guessed. */
export const credential = optionalText.pipe(
  z
    .string()
    .min(16, "must be at least 16 characters")
    .max(512, "must be at most 512 characters")
    .optional(),
);

export const bootstrapToken = credential;

/** A number within bounds (fractions allowed), `fallback` when unset. */
export function decimal(bounds: { min: number; max: number; fallback: number }) {
  const { min, max, fallback } = bounds;
  return optionalText.pipe(
    z.coerce
      .number<string>({ error: "must be a number" })
      .min(min, `must be at least ${min}`)
      .max(max, `must be at most ${max}`)
      .default(fallback),
  );
}

/**
 * The named variables of an environment (process.env, a Worker's bindings), as text. A
 * Worker's JSON-typed variable (a number, boolean or object in wrangler's `vars`) is read as
 * its text rather than ignored, so that `REQUIRE_DISTINCT_EXECUTOR = true` means what it says.
 */
export function pickVariables(
  env: object,
  names: readonly string[],
): Record<string, string | undefined> {
  const source = env as Record<string, unknown>;
  return Object.fromEntries(names.map((name) => [name, asText(source[name])]));
}

function asText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return undefined;
}

/** One line per problem, each starting with the variable it is about. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `${issue.path.join(".") || "(environment)"}: ${issue.message}`);
}
