/**
 * What a stage deploys, read from the deploying environment and checked before anything is
 * deployed or migrated. Plain TypeScript without SST's globals, so that `infra/deploy.ts` (on
 * Node) and `sst.config.ts` (inside SST) refuse a bad configuration with the same message.
 *
 * Each variable, and each rule between variables that a Worker applies at start, is judged by
 * that Worker's own schema (functions/config/): a configuration deployed here is one the
 * Workers accept. Only rules about the stage as a whole are written here.
 */
import { z } from "zod";
import { apiEnvSchema } from "../functions/config/api";
import { describeIssues, flag, optionalText, pickVariables } from "../functions/config/fields";
import { workerEnvSchema } from "../functions/config/worker";
import { CLOUDFLARE_AUTH_LIMIT } from "../functions/domain/auth-limiter";
import { CLOUDFLARE_SIGN_IN_LIMIT } from "../functions/domain/sign-in-limiter";
import { builtInGenerators } from "../functions/execution/generators";
import {
  CLOUDFLARE_CONNECTIONS,
  effectiveConcurrency,
  jobsPerInvocation,
  overhead,
  subrequestsPerJob,
  workerLimits,
} from "../functions/execution/subrequests";

/** The one stage that is retained, protected and required to sit behind Cloudflare Access. */
export const PRODUCTION_STAGE = "production";

/**
 * Cron's finest granularity: a job waits at most a minute for a claimer, and an invocation
 * that finds nothing costs one query. Each invocation works for at most WORKER_BUDGET_MS.
 */
export const CLAIMER_SCHEDULE = "* * * * *";

/**
 * The Api Worker's limit on admin sign-ins: SST's RateLimit component, linked to the Worker,
 * which finds it under the component's name. The numbers are the Worker's own (the period in
 * SST's words). The namespace is account-wide, so stages in one account share its counters:
 * a client failing on one stage waits on all of them, which costs nobody anything.
 */
export const SIGN_IN_RATE_LIMIT = {
  name: CLOUDFLARE_SIGN_IN_LIMIT.binding,
  namespaceId: 7301,
  limit: CLOUDFLARE_SIGN_IN_LIMIT.limit,
  period: "1 minute",
} as const;

/**
 * The Api Worker's limit on failed authentications at the API, as SIGN_IN_RATE_LIMIT is for
 * sign-ins: its own component and namespace (a namespace holds one limit's counters), the
 * numbers the Worker's own. The Worker calls it on failures only.
 */
export const AUTH_RATE_LIMIT = {
  name: CLOUDFLARE_AUTH_LIMIT.binding,
  namespaceId: 7302,
  limit: CLOUDFLARE_AUTH_LIMIT.limit,
  period: "1 minute",
} as const;

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
  METRICS_TOKEN: { component: "MetricsToken", optional: true },
  ALERT_WEBHOOK_URL: { component: "AlertWebhookUrl", optional: true },
  ALERT_WEBHOOK_SECRET: { component: "AlertWebhookSecret", optional: true },
} as const;

export type SecretName = keyof typeof SECRETS;

/** Plain-text variables of the Api Worker, passed on only when set. */
export const API_VARIABLES = [
  "DATABASE_DRIVER",
  "ACCESS_TEAM_DOMAIN",
  "ACCESS_AUD",
  "ACCESS_ADMIN_EMAILS",
  "ACCESS_VIEWER_EMAILS",
  "ACCESS_SUBMITTER_EMAILS",
  "REQUIRE_DISTINCT_EXECUTOR",
  "RETRY_BUDGET",
  "INTENT_TTL_HOURS",
  "RETRY_BATCH_MAX",
  "RETRY_SURGE_FACTOR",
  "RETRY_SURGE_MIN",
] as const satisfies readonly (keyof typeof apiEnvSchema.shape)[];

/** Plain-text variables of the Claimer's Worker, passed on only when set. */
export const CLAIMER_VARIABLES = [
  "WORKER_BATCH_SIZE",
  "WORKER_CONCURRENCY",
  "WORKER_LEASE_SECONDS",
  "WORKER_BUDGET_MS",
  "WORKER_SUBREQUEST_BUDGET",
  "JOB_TIMEOUT_MS",
  "HTTP_GENERATOR_URL",
  "HTTP_GENERATOR_TIMEOUT_MS",
  "RETRY_SURGE_FACTOR",
  "RETRY_SURGE_MIN",
] as const satisfies readonly (keyof typeof workerEnvSchema.shape)[];

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

/** The deploy check's own variables: read from the deploying shell, never deployed. */
const stageSchema = z.object({
  /** Lets the production stage run on API tokens alone. */
  ACCESS_DISABLED: flag,
  NEON_WS_PROXY: optionalText,
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
  // Only what is deployed as plain text: secrets are checked by secretProblems when they are
  // bound, and the shell's DATABASE_URL (for the migrations) by infra/deploy.ts.
  const apiText = pickVariables(env, API_VARIABLES);
  const claimerText = pickVariables(env, CLAIMER_VARIABLES);
  const api = apiEnvSchema.safeParse(apiText);
  const claimer = workerEnvSchema.safeParse(claimerText);
  const own = stageSchema.safeParse(pickVariables(env, Object.keys(stageSchema.shape)));
  for (const result of [api, claimer, own]) {
    if (!result.success) problems.push(...describeIssues(result.error.issues));
  }
  if (!api.success || !claimer.success || !own.success) throw configError(stage, problems);

  const a = api.data;
  const production = stage === PRODUCTION_STAGE;
  // The API's schema has made sure the team domain and the AUD come together.
  const access = a.ACCESS_TEAM_DOMAIN !== undefined;
  const roles = [a.ACCESS_ADMIN_EMAILS, a.ACCESS_VIEWER_EMAILS, a.ACCESS_SUBMITTER_EMAILS];
  const anyRole = roles.some((list) => list.length > 0);

  if (own.data.ACCESS_DISABLED && access) {
    problems.push(
      "ACCESS_DISABLED: is true, yet ACCESS_TEAM_DOMAIN or ACCESS_AUD is set; keep one of the two",
    );
  }
  if (production && !access && !own.data.ACCESS_DISABLED) {
    problems.push(
      `ACCESS_TEAM_DOMAIN, ACCESS_AUD: the ${PRODUCTION_STAGE} stage serves /admin behind Cloudflare Access; set both (see docs/deployment.md), or set ACCESS_DISABLED=true to run it on API tokens alone`,
    );
  }
  if (!access && anyRole) {
    problems.push(
      "ACCESS_ADMIN_EMAILS, ACCESS_VIEWER_EMAILS, ACCESS_SUBMITTER_EMAILS: have no effect without Cloudflare Access (ACCESS_TEAM_DOMAIN and ACCESS_AUD)",
    );
  }
  if (access && !anyRole) {
    problems.push(
      "ACCESS_ADMIN_EMAILS: Cloudflare Access is configured, but no ACCESS_*_EMAILS list names anyone, so nobody signing in through Access would get a role",
    );
  }
  const generator = claimer.data.HTTP_GENERATOR_URL;
  if (production && generator && new URL(generator).protocol === "http:") {
    problems.push(
      `HTTP_GENERATOR_URL: must be https:// on the ${PRODUCTION_STAGE} stage; HTTP_GENERATOR_HEADERS may carry a credential`,
    );
  }
  if (problems.length > 0) throw configError(stage, problems);

  const warnings = claimerLimitWarnings(claimer.data);
  if (own.data.NEON_WS_PROXY) {
    warnings.push(
      "NEON_WS_PROXY is set in this shell: it is for local runs against a non-Neon PostgreSQL and is not deployed",
    );
  }
  return {
    stage,
    production,
    api: deployed(API_VARIABLES, apiText, a),
    claimer: deployed(CLAIMER_VARIABLES, claimerText, claimer.data),
    warnings,
  };
}

/**
 * Claimer settings that ask for more than one invocation of its Worker can do. They are not
 * refused: the Claimer keeps within its limits by itself (functions/execution/subrequests.ts),
 * but then claims fewer jobs, or runs fewer at once, than they say. The alert digest is counted
 * as if it were on: its webhook is a secret, bound later.
 */
export function claimerLimitWarnings(claimer: z.output<typeof workerEnvSchema>): string[] {
  const warnings: string[] = [];
  const limits = workerLimits(claimer.WORKER_SUBREQUEST_BUDGET);
  const perJob = subrequestsPerJob(builtInGenerators({ timeoutMs: 1 }));
  const jobs = jobsPerInvocation(limits, perJob, true);
  const batchSize = claimer.WORKER_BATCH_SIZE;
  if (batchSize > jobs) {
    const unset = claimer.WORKER_SUBREQUEST_BUDGET === undefined;
    warnings.push(
      `WORKER_BATCH_SIZE: ${batchSize} jobs need up to ${batchSize * perJob} generator calls, plus ${overhead(limits, true)} subrequests for the database and the alert digest, more than the ${limits.subrequests} of WORKER_SUBREQUEST_BUDGET${unset ? " (unset: the Workers Free plan's limit)" : ""}: each Claimer invocation claims at most ${jobs} jobs of a generator that calls out (such as http). On the Paid plan, set WORKER_SUBREQUEST_BUDGET to its limit (10,000 by default); otherwise set WORKER_BATCH_SIZE to ${jobs} or less`,
    );
  }
  const slots = effectiveConcurrency(Number.POSITIVE_INFINITY, limits);
  if (claimer.WORKER_CONCURRENCY > slots) {
    warnings.push(
      `WORKER_CONCURRENCY: ${claimer.WORKER_CONCURRENCY} is more than the Claimer can run at once: Cloudflare lets an invocation have ${CLOUDFLARE_CONNECTIONS} outgoing connections waiting at once, and the database keeps ${limits.databaseSockets} of them, so it runs ${slots} generators at once`,
    );
  }
  return warnings;
}

/**
 * The variables that are set, each as the text of the value its Worker will read from it
 * (`TRUE` as `true`, addresses lower-cased): the Worker gets what was checked.
 */
function deployed(
  names: readonly string[],
  text: Record<string, string | undefined>,
  parsed: Record<string, unknown>,
): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => {
      if (!text[name]?.trim()) return [];
      const value = parsed[name];
      const written = Array.isArray(value) ? value.join(",") : String(value);
      return written === "" ? [] : [[name, written]];
    }),
  );
}

/** The rule for each secret: the very field its Worker's schema reads it with. */
const SECRET_FIELDS = {
  DATABASE_URL: apiEnvSchema.shape.DATABASE_URL,
  SESSION_SECRET: apiEnvSchema.shape.SESSION_SECRET,
  REGENT_BOOTSTRAP_ADMIN_TOKEN: apiEnvSchema.shape.REGENT_BOOTSTRAP_ADMIN_TOKEN,
  HTTP_GENERATOR_HEADERS: workerEnvSchema.shape.HTTP_GENERATOR_HEADERS,
  METRICS_TOKEN: apiEnvSchema.shape.METRICS_TOKEN,
  ALERT_WEBHOOK_URL: workerEnvSchema.shape.ALERT_WEBHOOK_URL,
  ALERT_WEBHOOK_SECRET: workerEnvSchema.shape.ALERT_WEBHOOK_SECRET,
} satisfies Record<SecretName, z.ZodType>;

/**
 * Checks the secret values a Worker is about to be bound to, with the rules the Worker reads
 * them by. Returns one line per problem, naming the SST secret and never quoting its value.
 */
export function secretProblems(values: Partial<Record<SecretName, string>>): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(SECRETS) as SecretName[]) {
    const value = values[name];
    if (value === undefined) continue;
    const complain = (message: string) =>
      problems.push(`${SECRETS[name].component} (${name}): ${message}`);
    // A blank value reads as unset, and the Workers refuse to run without a required one.
    if (!SECRETS[name].optional && !value.trim()) {
      complain("is empty; the Workers cannot run without it");
      continue;
    }
    const parsed = SECRET_FIELDS[name].safeParse(value);
    if (!parsed.success) for (const issue of parsed.error.issues) complain(issue.message);
  }
  // The Claimer refuses to run with a webhook and no key to sign its digests with.
  if (values.ALERT_WEBHOOK_URL?.trim() && !values.ALERT_WEBHOOK_SECRET?.trim()) {
    problems.push(
      `${SECRETS.ALERT_WEBHOOK_SECRET.component} (ALERT_WEBHOOK_SECRET): is required with ${SECRETS.ALERT_WEBHOOK_URL.component}: receivers check each digest's signature`,
    );
  }
  return problems;
}

function configError(stage: string, problems: string[]): StageConfigError {
  return new StageConfigError(
    `invalid configuration for stage "${stage}":\n${problems.map((p) => `  ${p}`).join("\n")}`,
  );
}
