/**
 * `npm run deploy` against a real PostgreSQL server, with the SST CLI replaced by a recording
 * stand-in (SST_BIN): migrations first, `sst deploy` only after they succeeded. Once, the real
 * SST of node_modules runs instead, without Cloudflare credentials, so that it stops by itself.
 */
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { serverUrl } from "../helpers/db";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "regent-deploy-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const journal = JSON.parse(
  readFileSync(join(root, "db/migrations/meta/_journal.json"), "utf8"),
) as { entries: unknown[] };

/** An executable `sst` that runs tests/helpers/sst-stand-in.ts with the project's tsx. */
const sstBin = join(scratch, "sst");
writeFileSync(
  sstBin,
  `#!/bin/sh\nexec "${join(root, "node_modules/.bin/tsx")}" "${join(root, "tests/helpers/sst-stand-in.ts")}" "$@"\n`,
);
chmodSync(sstBin, 0o755);

const ACCESS = {
  ACCESS_TEAM_DOMAIN: "regent-team.cloudflareaccess.com",
  ACCESS_AUD: "0123456789abcdef",
  ACCESS_ADMIN_EMAILS: "ada@example.com",
};

let counter = 0;

async function adminQuery(text: string) {
  const client = new pg.Client({ connectionString: inject("pgAdminUrl") });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

/** A new, empty database (no migrations); `setup` runs in it first. */
async function emptyDatabase(setup?: string): Promise<string> {
  const name = `${inject("pgRunPrefix")}_deploy_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const url = serverUrl(name);
  if (setup) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(setup);
    await client.end();
  }
  return url;
}

async function hasMigrations(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present",
    );
    return rows[0].present as boolean;
  } finally {
    await client.end();
  }
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  /** What the stand-in `sst` was called with, one entry per call. */
  calls: { args: string[]; migrations: number | null }[];
}

/** Runs `npm run deploy -- <args>` with `env` as the whole deployment configuration. */
async function deploy(args: string[], env: Record<string, string>): Promise<Outcome> {
  const log = join(scratch, `calls-${++counter}.jsonl`);
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(DATABASE_URL|NEON_WS_PROXY|ACCESS_|WORKER_|JOB_|HTTP_GENERATOR_|CLOUDFLARE_|SST_)/.test(
          name,
        ),
    ),
  );
  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "npm",
      ["run", "--silent", "deploy", "--", ...args],
      { cwd: root, env: { ...inherited, SST_BIN: sstBin, SST_STAND_IN_LOG: log, ...env } },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
  const calls = existsSync(log)
    ? readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
    : [];
  return { ...result, calls };
}

describe("npm run deploy", () => {
  it("applies the migrations, then runs sst deploy --stage <stage>, never printing credentials", async () => {
    // A server that trusts local clients ignores the password; one that checks it has its own.
    const credentials = new URL(await emptyDatabase());
    if (!credentials.password) credentials.password = "never-printed-pw";
    const withPassword = credentials.toString();
    const outcome = await deploy(["--stage", "production"], {
      ...ACCESS,
      DATABASE_URL: withPassword,
    });
    expect(outcome.stderr).not.toMatch(/deploy:/);
    expect(outcome.code).toBe(0);
    expect(outcome.calls).toEqual([
      { args: ["deploy", "--stage", "production"], migrations: journal.entries.length },
    ]);
    expect(outcome.stdout).toMatch(/applying migrations to .* for stage "production"/);
    expect(outcome.stdout).toContain("migrations applied");
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(`:${credentials.password}@`);
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(withPassword);
  });

  it("does not deploy when a migration fails", async () => {
    // The first migration creates this type; finding it already there makes the migration fail.
    const url = await emptyDatabase("CREATE TYPE api_token_role AS ENUM ('someone-else')");
    const outcome = await deploy(["--stage=staging"], { DATABASE_URL: url });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/deploy: migration failed, nothing was deployed: /);
    expect(outcome.calls).toEqual([]);
  });

  it("refuses to run without DATABASE_URL, before migrating or deploying", async () => {
    const outcome = await deploy(["--stage", "staging"], {});
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/deploy: DATABASE_URL is not set/);
    expect(outcome.calls).toEqual([]);

    const mysql = await deploy(["--stage", "staging"], { DATABASE_URL: "mysql://db/regent" });
    expect(mysql.code).toBe(1);
    expect(mysql.stderr).toMatch(/DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(mysql.calls).toEqual([]);
  });

  it("refuses a stage whose configuration must not be deployed, before touching the database", async () => {
    const url = await emptyDatabase();
    const outcome = await deploy(["--stage", "production"], { DATABASE_URL: url });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/invalid configuration for stage "production"/);
    expect(outcome.stderr).toMatch(/ACCESS_TEAM_DOMAIN, ACCESS_AUD: /);
    expect(outcome.calls).toEqual([]);
    expect(await hasMigrations(url)).toBe(false);
  });

  it("refuses to run without a stage", async () => {
    const url = await emptyDatabase();
    const outcome = await deploy([], { DATABASE_URL: url });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(
      /deploy: no stage given\nusage: npm run deploy -- --stage <stage>/,
    );
    expect(outcome.calls).toEqual([]);
    expect(await hasMigrations(url)).toBe(false);
  });

  it("fails when sst deploy fails, after the migrations it needed", async () => {
    const url = await emptyDatabase();
    const outcome = await deploy(["--stage", "staging"], {
      DATABASE_URL: url,
      SST_STAND_IN_EXIT: "3",
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/deploy: sst deploy --stage staging exited with status 3/);
    expect(outcome.calls).toEqual([
      { args: ["deploy", "--stage", "staging"], migrations: journal.entries.length },
    ]);

    const missing = await deploy(["--stage", "staging"], {
      DATABASE_URL: url,
      SST_BIN: join(scratch, "no-such-sst"),
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /could not run .*no-such-sst .*run npm install \(SST is a devDependency\), or set SST_BIN/,
    );
  });

  it("runs the SST of node_modules when SST_BIN is not set, which then wants Cloudflare credentials", async () => {
    const url = await emptyDatabase();
    const outcome = await deploy(["--stage", "staging"], {
      DATABASE_URL: url,
      SST_BIN: "",
      // Pulumi, which SST would otherwise download first, is not needed to get this far.
      SST_SKIP_DEPENDENCY_CHECK: "1",
      SST_TELEMETRY_DISABLED: "1",
    });
    expect(outcome.stdout).toContain("migrations applied");
    expect(outcome.code).toBe(1);
    expect(`${outcome.stdout}${outcome.stderr}`).toMatch(
      /cloudflare: Cloudflare API not initialized\. Please provide CLOUDFLARE_API_TOKEN/,
    );
    expect(outcome.stderr).toMatch(/deploy: sst deploy --stage staging exited with status 1/);
    expect(await hasMigrations(url)).toBe(true);
  });
});
