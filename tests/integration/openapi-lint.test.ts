import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessTeam } from "../helpers/access";
import { call, testApp } from "../helpers/api";
import { freshDatabase, type TestDatabase } from "../helpers/db";

/**
 * The document the server serves, linted by Redocly CLI with the rules of redocly.yaml (its
 * recommended set, warnings as errors): with and without Cloudflare Access configured.
 */
let t: TestDatabase;
let folder: string;

beforeAll(async () => {
  t = await freshDatabase();
  folder = mkdtempSync(join(tmpdir(), "regent-openapi-"));
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

function lint(document: unknown, name: string): { status: number | null; output: string } {
  const file = join(folder, `${name}.json`);
  writeFileSync(file, JSON.stringify(document));
  const run = spawnSync(
    "redocly",
    ["lint", file, "--config", "redocly.yaml", "--format", "stylish"],
    {
      encoding: "utf8",
      env: {
        ...process.env,
        REDOCLY_TELEMETRY: "off",
        REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
        NO_COLOR: "1",
      },
    },
  );
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

describe("the served OpenAPI document", () => {
  it("passes Redocly's recommended rules without a warning, Access off", async () => {
    const doc = await call(testApp(t.db), "GET", "/api/openapi.json");
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.components.securitySchemes)).toEqual(["bearerAuth"]);
    const result = lint(doc.body, "plain");
    expect(result.output).toMatch(/valid/i);
    expect(result.output).not.toMatch(/warning|error/i);
    expect(result.status, result.output).toBe(0);
  });

  it("passes them with Access configured, which it then offers as a second scheme", async () => {
    const team = await accessTeam({ admins: "ops@example.com" });
    const doc = await call(
      testApp(t.db, team.env, { accessKeys: team.keys }),
      "GET",
      "/api/openapi.json",
    );
    expect(Object.keys(doc.body.components.securitySchemes).sort()).toEqual([
      "accessJwt",
      "bearerAuth",
    ]);
    expect(doc.body.paths["/api/jobs"].post.security).toEqual([
      { bearerAuth: [] },
      { accessJwt: [] },
    ]);
    const result = lint(doc.body, "access");
    expect(result.output).not.toMatch(/warning|error/i);
    expect(result.status, result.output).toBe(0);
  });
});
