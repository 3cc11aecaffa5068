import { z } from "zod";

const optionalText = z
  .string()
  .transform((value) => value.trim())
  .optional()
  .transform((value) => (value ? value : undefined));

/** Comma- or whitespace-separated e-mail addresses (or `@domain` entries), compared lower-case. */
const emailList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(/[\s,]+/)
      .map((entry) => entry.trim().toLowerCase())
      .filter((entry) => entry.length > 0),
  )
  .pipe(
    z.array(
      z
        .string()
        .regex(/^([^@\s]+@[^@\s]+|@[^@\s]+)$/, "each entry is an e-mail address or @domain"),
    ),
  );

const flag = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const v = (value ?? "").trim().toLowerCase();
    if (v === "" || v === "0" || v === "false" || v === "no" || v === "off") return false;
    if (v === "1" || v === "true" || v === "yes" || v === "on") return true;
    ctx.addIssue({ code: "custom", message: "must be true or false" });
    return z.NEVER;
  });

/**
 * Every setting Regent's API reads from its environment (Node's process.env or a Worker's
 * bindings). One schema so that a wrong value is refused at start with the variable's name.
 */
export const configSchema = z
  .object({
    DATABASE_URL: optionalText.pipe(
      z
        .string()
        .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
        .optional(),
    ),
    NEON_WS_PROXY: optionalText,
    ACCESS_TEAM_DOMAIN: optionalText.pipe(
      z
        .string()
        .regex(
          /^(https:\/\/)?[a-z0-9-]+(\.[a-z0-9-]+)+\/?$/i,
          "must be a host name such as myteam.cloudflareaccess.com",
        )
        .optional(),
    ),
    ACCESS_AUD: optionalText,
    ACCESS_ADMIN_EMAILS: emailList,
    ACCESS_VIEWER_EMAILS: emailList,
    ACCESS_SUBMITTER_EMAILS: emailList,
    REGENT_BOOTSTRAP_ADMIN_TOKEN: optionalText.pipe(
      z.string().min(16, "must be at least 16 characters").max(512).optional(),
    ),
    SESSION_SECRET: optionalText.pipe(
      z.string().min(32, "must be at least 32 characters").max(512).optional(),
    ),
    REQUIRE_DISTINCT_EXECUTOR: flag,
    PORT: optionalText.pipe(
      z
        .string()
        .regex(/^[0-9]{1,5}$/, "must be a port number")
        .transform(Number)
        .pipe(z.number().int().min(1).max(65535))
        .optional(),
    ),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.ACCESS_TEAM_DOMAIN) !== Boolean(env.ACCESS_AUD)) {
      ctx.addIssue({
        code: "custom",
        path: [env.ACCESS_TEAM_DOMAIN ? "ACCESS_AUD" : "ACCESS_TEAM_DOMAIN"],
        message: "ACCESS_TEAM_DOMAIN and ACCESS_AUD are set together or not at all",
      });
    }
  });

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
  /** Set when Cloudflare Access sign-in is configured. */
  access: AccessConfig | undefined;
  bootstrapAdminToken: string | undefined;
  /** Signs admin page sessions; without it the admin page is not served. */
  sessionSecret: string | undefined;
  /** Four-eyes rule for executing retry intents. */
  requireDistinctExecutor: boolean;
  port: number;
}

export const DEFAULT_PORT = 8787;

/** A configuration that cannot run; the message names each offending variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** Reads and checks the environment; throws ConfigError listing every problem at once. */
export function loadConfig(env: Record<string, unknown>): Config {
  const picked = Object.fromEntries(
    Object.keys(configSchema.shape).map((key) => [
      key,
      typeof env[key] === "string" ? env[key] : undefined,
    ]),
  );
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${issue.path.join(".") || "(environment)"}: ${issue.message}`,
    );
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
    access,
    bootstrapAdminToken: e.REGENT_BOOTSTRAP_ADMIN_TOKEN,
    sessionSecret: e.SESSION_SECRET,
    requireDistinctExecutor: e.REQUIRE_DISTINCT_EXECUTOR,
    port: e.PORT ?? DEFAULT_PORT,
  };
}
