/**
 * A Node deployment with the two roles, as the README describes it: the owner migrates
 * (`npm run db:migrate`), and `npm start` and `npm run worker` run as a login member of
 * `regent_app`, which may not migrate. On a database that is not at this release's migration
 * they refuse to start with one line naming the command, never a stack trace.
 */
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { type AppRoleMember, appRoleMember, asServerAdmin } from "../helpers/app-role";
import { freshDatabase, serverUrl, type TestDatabase } from "../helpers/db";
import { npmRun } from "../helpers/npm";
import { startRegent } from "../helpers/start-server";
import { insertDemoJobs } from "../helpers/worker";

let t: TestDatabase;
let member: AppRoleMember;

beforeAll(async () => {
  t = await freshDatabase();
  member = await appRoleMember(t);
});

describe("Node as the application's role", () => {
  it("runs the worker as a member of regent_app on a migrated database", async () => {
    await insertDemoJobs(t.raw, 30);
    const run = await npmRun(["worker", "--", "--once"], { DATABASE_URL: member.url });
    expect(run.stderr).not.toContain("permission denied");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("claimed 30, completed 30, failed 0");
  });

  it("serves the API and the worker loop as a member of regent_app", async () => {
    const token = `app-role-${Math.random().toString(36).slice(2)}-0123456789`;
    const regent = await startRegent(
      { DATABASE_URL: member.url, REGENT_BOOTSTRAP_ADMIN_TOKEN: token },
      60_000,
      { migrate: false },
    );
    try {
      const submitted = await fetch(`${regent.url}/api/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ generator: "demo", input: { text: "as the app role" } }),
      });
      expect(submitted.status).toBe(201);
    } finally {
      await regent.stop();
    }
  });

  it("refuses, with one line naming npm run db:migrate, a database that is not migrated", async () => {
    const name = `${t.name}_empty`;
    await asServerAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
    try {
      const url = new URL(serverUrl(name));
      url.username = new URL(member.url).username;
      url.password = new URL(member.url).password;
      await asServerAdmin((client) =>
        client.query(`GRANT CONNECT ON DATABASE "${name}" TO "${member.name}"`),
      );
      for (const script of [["worker", "--", "--once"], ["start"]]) {
        const run = await npmRun(script, { DATABASE_URL: url.toString(), PORT: "65000" });
        expect(run.code, script.join(" ")).toBe(1);
        const lines = run.stderr.trim().split("\n");
        expect(lines, run.stderr).toHaveLength(1);
        expect(lines[0]).toContain("run `npm run db:migrate` as the owner");
        expect(run.stderr).not.toMatch(/\n\s+at /);
      }
      // Nothing was created there.
      const client = new pg.Client({ connectionString: serverUrl(name) });
      await client.connect();
      try {
        const { rows } = await client.query(
          "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname IN ('public', 'drizzle')",
        );
        expect(rows[0].n).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      await asServerAdmin((client) =>
        client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
      );
    }
  });
});
