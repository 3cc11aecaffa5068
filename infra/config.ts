/**
 * What a stage deploys, read from the deploying environment and checked before anything is
 * deployed or migrated. Plain TypeScript without SST's globals, so that `infra/deploy.ts` (on
 * Node) and `sst.config.ts` (inside SST) refuse a bad configuration with the same message.
 */
import { z } from "zod";

/** The one stage that is retained, protected and required to sit behind Cloudflare Access. */
export const PRODUCTION_STAGE = "production";

/**
 * Cron's finest granularity: a job waits at most a minute for a claimer, and an invocation
 * that finds nothing costs one query. Each invocation works for at most WORKER_BUDGET_MS.
 */
export const CLAIMER_SCHEDULE = "* * * * *";

/**
 * The secrets, by the environment name the Worker entries read (`env.DATABASE_URL`), with the
 * SST secret that holds each per stage (`sst secret set DatabaseUrl … --stage production`).
 * An optional secret left unset is not bound at all, so the entry sees it as absent.
 */
export const SECRETS = {
  DATABASE_URL: { component: "DatabaseUrl", optional: false },
  SESSION_SECRET: { component: "SessionSecret", optional: false },
  REGENT_BOOTSTRAP_ADMIN_TOKEN: { component: "BootstrapAdminToken", optional: true },
  HTTP_GENERATOR_HEADERS: { component: "HttpGeneratorHeaders", optional: true },
} as const;

export type SecretName = keyof typeof SECRETS;

/** Plain-text variables of the Api Worker, passed on only when set. */
export const API_VARIABLES = [
  "ACCESS_TEAM_DOMAIN",
  "ACCESS_AUD",
  "ACCESS_ADMIN_EMAILS",
  "ACCESS_VIEWER_EMAILS",
  "ACCESS_SUBMITTER_EMAILS",
  "REQUIRE_DISTINCT_EXECUTOR",
] as const;

/** Plain-text variables of the Claimer's Worker, passed on only when set. */
export const CLAIMER_VARIABLES = [
  "WORKER_BATCH_SIZE",
  "WORKER_CONCURRENCY",
  "WORKER_LEASE_SECONDS",
  "WORKER_BUDGET_MS",
  "JOB_TIMEOUT_MS",
  "HTTP_GENERATOR_URL",
  "HTTP_GENERATOR_TIMEOUT_MS",
] as const;

export interface StageConfig {
  stage: string;
  production: boolean;
  /** Environment of the Api Worker (plain text): only the variables that are set. */
  api: Record<string, string>;
  /** Environment of the Claimer's Worker (plain text): only the variables that are set. */
  claimer: Record<string, string>;
  /** Things worth saying that do not stop a deployment. */
  warnings: string[];
}

/** A configuration that must not be deployed; the message names every offending variable. */
export class StageConfigError extends Error {
  override readonly name = "StageConfigError";
}

// An empty variable, as .env files and CI forms leave them, means "not set".
const text = z
  .string()
  .optional()
  .transform((value) => value?.trim() || undefined);

const wholeNumber = (max?: { value: number; why: string }) =>
  text.pipe(
    z
      .string()
      .regex(/^[0-9]+$/, "must be a whole number")
      .refine((value) => Number(value) >= 1, "must be at least 1")
      .refine((value) => !max || Number(value) <= max.value, max?.why ?? "")
      .optional(),
  );

// The same entries the API accepts: an address, or `@domain` for everyone at that domain.
const emailList = text.transform((value, ctx) => {
  if (value === undefined) return undefined;
  const entries = value
    .split(/[\s,]+/)
    .map((entry) => entry.toLowerCase())
    .filter((entry) => entry.length > 0);
  const bad = entries.filter((entry) => !/^([^@\s]+@[^@\s]+|@[^@\s]+)$/.test(entry));
  if (bad.length > 0) {
    ctx.addIssue({
      code: "custom",
      message: `each entry is an e-mail address or @domain (not ${bad.join(", ")})`,
    });
    return z.NEVER;
  }
  return entries.join(",");
});

const trueOrFalse = text.pipe(
  z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(["true", "false"], { error: 'must be "true" or "false"' }))
    .optional(),
);

const schema = z.object({
  ACCESS_TEAM_DOMAIN: text.pipe(
    z
      .string()
      .regex(
        /^(https:\/\/)?[a-z0-9-]+(\.[a-z0-9-]+)+\/?$/i,
        "must be the team's host name, such as myteam.cloudflareaccess.com",
      )
      .optional(),
  ),
  ACCESS_AUD: text,
  ACCESS_ADMIN_EMAILS: emailList,
  ACCESS_VIEWER_EMAILS: emailList,
  ACCESS_SUBMITTER_EMAILS: emailList,
  ACCESS_DISABLED: trueOrFalse,
  REQUIRE_DISTINCT_EXECUTOR: trueOrFalse,
  WORKER_BATCH_SIZE: wholeNumber(),
  WORKER_CONCURRENCY: wholeNumber(),
  WORKER_LEASE_SECONDS: wholeNumber(),
  WORKER_BUDGET_MS: wholeNumber({
    value: 900_000,
    why: "must be at most 900000: Cloudflare ends a Cron Trigger's invocation after 15 minutes",
  }),
  JOB_TIMEOUT_MS: wholeNumber(),
  HTTP_GENERATOR_URL: text.pipe(
    z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
  ),
  HTTP_GENERATOR_TIMEOUT_MS: wholeNumber(),
  NEON_WS_PROXY: text,
});

/**
 * Reads the configuration of `stage` from `env` (the deploying shell, with SST's `.env` files
 * loaded) and checks it as a whole; throws StageConfigError listing every problem at once.
 */
export function readStageConfig(
  stage: string,
  env: Record<string, string | undefined>,
): StageConfig {
  const problems: string[] = [];
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(stage)) {
    problems.push(
      `stage "${stage}": must be 1–32 lower-case letters, digits or hyphens, starting with a letter`,
    );
  }
  const picked = Object.fromEntries(Object.keys(schema.shape).map((key) => [key, env[key]]));
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join(".")}: ${issue.message}`);
    }
    throw configError(stage, problems);
  }
  const e = parsed.data;
  const production = stage === PRODUCTION_STAGE;
  const access = Boolean(e.ACCESS_TEAM_DOMAIN || e.ACCESS_AUD);
  const roles = [e.ACCESS_ADMIN_EMAILS, e.ACCESS_VIEWER_EMAILS, e.ACCESS_SUBMITTER_EMAILS];

  if (access && !(e.ACCESS_TEAM_DOMAIN && e.ACCESS_AUD)) {
    problems.push(
      `${e.ACCESS_TEAM_DOMAIN ? "ACCESS_AUD" : "ACCESS_TEAM_DOMAIN"}: ACCESS_TEAM_DOMAIN and ACCESS_AUD are set together or not at all`,
    );
  }
  if (e.ACCESS_DISABLED === "true" && access) {
    problems.push(
      "ACCESS_DISABLED: is true, yet ACCESS_TEAM_DOMAIN or ACCESS_AUD is set; keep one of the two",
    );
  }
  if (production && !access && e.ACCESS_DISABLED !== "true") {
    problems.push(
      `ACCESS_TEAM_DOMAIN, ACCESS_AUD: the ${PRODUCTION_STAGE} stage serves /admin behind Cloudflare Access; set both (see docs/deployment.md), or set ACCESS_DISABLED=true to run it on API tokens alone`,
    );
  }
  if (!access && roles.some(Boolean)) {
    problems.push(
      "ACCESS_ADMIN_EMAILS, ACCESS_VIEWER_EMAILS, ACCESS_SUBMITTER_EMAILS: have no effect without Cloudflare Access (ACCESS_TEAM_DOMAIN and ACCESS_AUD)",
    );
  }
  if (access && !roles.some(Boolean)) {
    problems.push(
      "ACCESS_ADMIN_EMAILS: Cloudflare Access is configured, but no ACCESS_*_EMAILS list names anyone, so nobody signing in through Access would get a role",
    );
  }
  if (e.JOB_TIMEOUT_MS && e.WORKER_LEASE_SECONDS) {
    if (Number(e.JOB_TIMEOUT_MS) >= Number(e.WORKER_LEASE_SECONDS) * 1000) {
      problems.push(
        `JOB_TIMEOUT_MS: must be shorter than the lease (WORKER_LEASE_SECONDS = ${e.WORKER_LEASE_SECONDS} s), or a running job's claim lapses under it`,
      );
    }
  }
  if (production && e.HTTP_GENERATOR_URL?.startsWith("http://")) {
    problems.push(
      `HTTP_GENERATOR_URL: must be https:// on the ${PRODUCTION_STAGE} stage; HTTP_GENERATOR_HEADERS may carry a credential`,
    );
  }
  if (problems.length > 0) throw configError(stage, problems);

  const warnings: string[] = [];
  if (e.NEON_WS_PROXY) {
    warnings.push(
      "NEON_WS_PROXY is set in this shell: it is for local runs against a non-Neon PostgreSQL and is not deployed",
    );
  }
  const pick = (names: readonly (keyof typeof e)[]) =>
    Object.fromEntries(
      names.flatMap((name) => {
        const value = e[name];
        return value === undefined ? [] : [[name, value]];
      }),
    ) as Record<string, string>;
  return {
    stage,
    production,
    api: pick(API_VARIABLES),
    claimer: pick(CLAIMER_VARIABLES),
    warnings,
  };
}

/**
 * Checks the secret values a Worker is about to be bound to. Returns one line per problem,
 * naming the SST secret and never quoting its value.
 */
export function secretProblems(values: Partial<Record<SecretName, string>>): string[] {
  const problems: string[] = [];
  const complain = (name: SecretName, message: string) =>
    problems.push(`${SECRETS[name].component} (${name}): ${message}`);
  const { DATABASE_URL, SESSION_SECRET, REGENT_BOOTSTRAP_ADMIN_TOKEN, HTTP_GENERATOR_HEADERS } =
    values;
  if (DATABASE_URL !== undefined && !/^postgres(ql)?:\/\/\S+$/.test(DATABASE_URL)) {
    complain("DATABASE_URL", "must be a postgres:// or postgresql:// URL");
  }
  // It signs admin session cookies: a short key makes a forged admin session a matter of time.
  if (SESSION_SECRET !== undefined && SESSION_SECRET.length < 32) {
    complain("SESSION_SECRET", "must be at least 32 characters (e.g. openssl rand -base64 48)");
  }
  if (REGENT_BOOTSTRAP_ADMIN_TOKEN && REGENT_BOOTSTRAP_ADMIN_TOKEN.length < 16) {
    complain("REGENT_BOOTSTRAP_ADMIN_TOKEN", "must be at least 16 characters, or left unset");
  }
  if (HTTP_GENERATOR_HEADERS) {
    let headers: unknown;
    try {
      headers = JSON.parse(HTTP_GENERATOR_HEADERS);
    } catch {
      headers = undefined;
    }
    const valid =
      typeof headers === "object" &&
      headers !== null &&
      !Array.isArray(headers) &&
      Object.values(headers).every((value) => typeof value === "string");
    if (!valid) {
      complain(
        "HTTP_GENERATOR_HEADERS",
        'must be a JSON object of strings, e.g. {"authorization":"Bearer …"}, or left unset',
      );
    }
  }
  return problems;
}

function configError(stage: string, problems: string[]): StageConfigError {
  return new StageConfigError(
    `invalid configuration for stage "${stage}":\n${problems.map((p) => `  ${p}`).join("\n")}`,
  );
}
