/**
 * The API runtime's environment: one schema for the Worker (functions/api.ts), `npm start`
 * and the deploy check (infra/config.ts), so that a wrong value is refused with the variable's
 * name wherever it is read, and a value one of them accepts the others accept too.
 */
import { z } from "zod";
import {
  DEFAULT_INTENT_TTL_HOURS,
  DEFAULT_RETRY_BATCH_MAX,
  DEFAULT_RETRY_BUDGET,
  MAX_INTENT_TTL_HOURS,
  MAX_RETRY_BATCH_MAX,
  MAX_RETRY_BUDGET,
  type PolicySettings,
} from "../../db/policy";
import { type AuthFailureLimit, DEFAULT_AUTH_FAILURE_LIMIT } from "../domain/auth-limiter";
import {
  accessTeamDomain,
  bootstrapToken,
  credential,
  describeIssues,
  emailList,
  flag,
  httpUrl,
  optionalText,
  pickVariables,
  postgresUrl,
  sessionSecret,
  wholeNumber,
} from "./fields";
import { type SurgeConfig, surgeConfigOf, surgeVariables } from "./signals";

export const DEFAULT_PORT = 8787;

export const apiEnvSchema = z
  .object({
    DATABASE_URL: postgresUrl,
    NEON_WS_PROXY: optionalText,
    /**
     * How the API Worker talks to Neon: `http`, one HTTPS request per statement with no
     * connection to open first (the API sends independent statements only, so it needs no
     * session), or `websocket`, a WebSocket pool per request. Unset: `http`, unless
     * NEON_WS_PROXY points at a local PostgreSQL, which speaks only the WebSocket way.
     * Node ignores it.
     */
    DATABASE_DRIVER: optionalText.pipe(
      z.enum(["websocket", "http"], { error: "must be websocket or http" }).optional(),
    ),
    /** Where the http driver sends its statements instead of Neon's endpoint (local runs). */
    NEON_HTTP_ENDPOINT: httpUrl,
    ACCESS_TEAM_DOMAIN: accessTeamDomain,
    ACCESS_AUD: optionalText,
    ACCESS_ADMIN_EMAILS: emailList,
    ACCESS_VIEWER_EMAILS: emailList,
    ACCESS_SUBMITTER_EMAILS: emailList,
    REGENT_BOOTSTRAP_ADMIN_TOKEN: bootstrapToken,
    SESSION_SECRET: sessionSecret,
    REQUIRE_DISTINCT_EXECUTOR: flag,
    PORT: wholeNumber({ min: 1, max: 65_535, fallback: DEFAULT_PORT }),
    /** Governed retries per chain before an explicit override is needed. */
    RETRY_BUDGET: wholeNumber({ min: 0, max: MAX_RETRY_BUDGET, fallback: DEFAULT_RETRY_BUDGET }),
    /** Default lifetime of a retry intent, in hours. */
    INTENT_TTL_HOURS: wholeNumber({
      min: 1,
      max: MAX_INTENT_TTL_HOURS,
      fallback: DEFAULT_INTENT_TTL_HOURS,
    }),
    /** The most jobs one retry batch holds. */
    RETRY_BATCH_MAX: wholeNumber({
      min: 1,
      max: MAX_RETRY_BATCH_MAX,
      fallback: DEFAULT_RETRY_BATCH_MAX,
    }),
    /** A bearer that may read `/metrics` without being a viewer (a Prometheus scraper). */
    METRICS_TOKEN: credential,
    /**
     * Failed authentications one client address may make within AUTH_FAILURE_WINDOW_SECONDS
     * before the API refuses it (429), in this process's memory. A deployed Worker counts with
     * its rate-limit binding instead, whose numbers infra/config.ts sets.
     */
    AUTH_FAILURE_LIMIT: wholeNumber({
      min: 1,
      max: 100_000,
      fallback: DEFAULT_AUTH_FAILURE_LIMIT.failures,
    }),
    AUTH_FAILURE_WINDOW_SECONDS: wholeNumber({
      min: 1,
      max: 86_400,
      fallback: DEFAULT_AUTH_FAILURE_LIMIT.windowSeconds,
    }),
    ...surgeVariables,
  })
  .superRefine((env, ctx) => {
    // Either alone would verify tokens against nobody's keys or nobody's audience.
    if (Boolean(env.ACCESS_TEAM_DOMAIN) !== Boolean(env.ACCESS_AUD)) {
      ctx.addIssue({
        code: "custom",
        path: [env.ACCESS_TEAM_DOMAIN ? "ACCESS_AUD" : "ACCESS_TEAM_DOMAIN"],
        message: "ACCESS_TEAM_DOMAIN and ACCESS_AUD are set together or not at all",
      });
    }
  });

/** The API's environment as a Worker receives it: every variable an optional string. */
export type ApiEnv = z.input<typeof apiEnvSchema>;

export interface AccessConfig {
  /** `https://<team>.cloudflareaccess.com`: the `iss` of every Access token. */
  issuer: string;
  /** Where the team publishes its signing keys. */
  certsUrl: string;
  /** Application audience tags (AUD); a token must name one of them. */
  audience: string[];
  adminEmails: string[];
  viewerEmails: string[];
  submitterEmails: string[];
}

export interface Config {
  databaseUrl: string | undefined;
  neonWsProxy: string | undefined;
  /** The API Worker's way to Neon (DATABASE_DRIVER). */
  databaseDriver: "websocket" | "http";
  neonHttpEndpoint: string | undefined;
  /** Set when Cloudflare Access sign-in is configured. */
  access: AccessConfig | undefined;
  bootstrapAdminToken: string | undefined;
  /** Signs admin page sessions; without it the admin page is not served. */
  sessionSecret: string | undefined;
  /** Four-eyes rule for executing retry intents. */
  requireDistinctExecutor: boolean;
  port: number;
  /**
   * RETRY_BUDGET, INTENT_TTL_HOURS, RETRY_BATCH_MAX and the four-eyes rule: what `migrate`
   * writes into the database's policy (npm run db:migrate, npm start, the deploy). Nothing
   * running reads them from here: the units of work and the pages read the database's.
   */
  policy: Required<PolicySettings>;
  metricsToken: string | undefined;
  /** The failed-authentication limit of the in-memory store (AUTH_FAILURE_*). */
  authFailureLimit: AuthFailureLimit;
  surge: SurgeConfig;
}

/** A configuration that cannot run; the message names each offending variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Reads and checks the API's environment once, at start, so that a bad value stops the
 * process before it serves anything; throws ConfigError listing every problem at once.
 */
export function loadConfig(env: object): Config {
  const parsed = apiEnvSchema.safeParse(pickVariables(env, Object.keys(apiEnvSchema.shape)));
  if (!parsed.success) {
    const lines = describeIssues(parsed.error.issues).map((line) => `  ${line}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  let access: AccessConfig | undefined;
  if (e.ACCESS_TEAM_DOMAIN && e.ACCESS_AUD) {
    const host = e.ACCESS_TEAM_DOMAIN.replace(/^https:\/\//i, "")
      .replace(/\/$/, "")
      .toLowerCase();
    const issuer = `https://${host}`;
    access = {
      issuer,
      certsUrl: `${issuer}/cdn-cgi/access/certs`,
      audience: e.ACCESS_AUD.split(/[\s,]+/).filter((a) => a.length > 0),
      adminEmails: e.ACCESS_ADMIN_EMAILS,
      viewerEmails: e.ACCESS_VIEWER_EMAILS,
      submitterEmails: e.ACCESS_SUBMITTER_EMAILS,
    };
  }
  return {
    databaseUrl: e.DATABASE_URL,
    neonWsProxy: e.NEON_WS_PROXY,
    databaseDriver: e.DATABASE_DRIVER ?? (e.NEON_WS_PROXY ? "websocket" : "http"),
    neonHttpEndpoint: e.NEON_HTTP_ENDPOINT,
    access,
    bootstrapAdminToken: e.REGENT_BOOTSTRAP_ADMIN_TOKEN,
    sessionSecret: e.SESSION_SECRET,
    requireDistinctExecutor: e.REQUIRE_DISTINCT_EXECUTOR,
    port: e.PORT,
    policy: {
      requireDistinctExecutor: e.REQUIRE_DISTINCT_EXECUTOR,
      retryBudget: e.RETRY_BUDGET,
      intentTtlHours: e.INTENT_TTL_HOURS,
      retryBatchMax: e.RETRY_BATCH_MAX,
    },
    metricsToken: e.METRICS_TOKEN,
    authFailureLimit: {
      failures: e.AUTH_FAILURE_LIMIT,
      windowSeconds: e.AUTH_FAILURE_WINDOW_SECONDS,
    },
    surge: surgeConfigOf(e),
  };
}
