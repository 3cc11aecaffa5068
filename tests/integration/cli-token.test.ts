import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { auditTrail } from "../../functions/domain/audit";
import { sha256Hex } from "../../functions/domain/canonical-json";
import { freshDatabase, type TestDatabase } from "../helpers/db";

const run = promisify(execFile);
let t: TestDatabase;
const regent = (args: string[]) =>
  run("npm", ["run", "--silent", "regent", "--", ...args], {
    env: { ...process.env, DATABASE_URL: t.url },
  });

beforeAll(async () => {
  t = await freshDatabase();
});

/** Whom the token proves, as the database answers a request that presents it (regent_caller). */
async function callerOf(token: string) {
  const credential = JSON.stringify({ kind: "token", sha256: await sha256Hex(token) });
  try {
    const { rows } = await t.raw.query("SELECT regent_caller($1::jsonb, NULL) AS caller", [
      credential,
    ]);
    return { ok: true as const, caller: rows[0].caller };
  } catch (error) {
    return { ok: false as const, detail: JSON.parse((error as { detail: string }).detail) };
  }
}

describe("npm run regent -- token …", () => {
  it("create prints the token alone on its last line; only its hash is stored; revoke ends it", async () => {
    const { stdout } = await regent(["token", "create", "--name", "ops", "--role", "viewer"]);
    const token = stdout.trim().split("\n").at(-1) as string;
    expect(token).toMatch(/^rgt_[A-Za-z0-9_-]{43}$/);
    const check = await callerOf(token);
    expect(check).toMatchObject({ ok: true, caller: { label: "ops", roles: ["viewer"] } });
    const { rows } = await t.raw.query("SELECT token_sha256 FROM api_tokens");
    expect(JSON.stringify(rows)).not.toContain(token);
    if (!check.ok) return;
    const tokenId = check.caller.tokenId as string;
    expect((await auditTrail(t.db, tokenId)).map((e) => e.type)).toEqual(["API_TOKEN_CREATED"]);

    const listed = await regent(["token", "list"]);
    expect(listed.stdout).toContain(tokenId);
    await regent(["token", "revoke", tokenId]);
    expect(await callerOf(token)).toMatchObject({
      ok: false,
      detail: { reason: "revoked", tokenId },
    });
    expect((await regent(["token", "list"])).stdout).not.toContain(tokenId);
  });

  it.each([
    [
      ["token", "create", "--name", "x", "--role", "root"],
      /--role must be one of admin, viewer, submitter/,
    ],
    [["token", "create", "--role", "admin"], /needs --name and --role/],
    [["token", "revoke"], /needs the token id/],
    [["job", "list"], /usage:/],
  ])("refuses %j with a clear message and a non-zero exit", async (args, message) => {
    const error = (await regent(args).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(message);
  });

  it("revoking an unknown token says so", async () => {
    const error = (await regent(["token", "revoke", "nosuchtoken"]).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/NOT_FOUND: no api token with id nosuchtoken/);
  });
});
