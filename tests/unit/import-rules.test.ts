import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The import rules `npm test` checks must be able to fail: dependency-cruiser runs with the
 * project's own configuration over a small project laid out like Regent, where some modules
 * reach the generators and some may.
 */
const root = resolve(import.meta.dirname, "../..");
let project: string;
let violations: { from: string; to: string; rule: { name: string } }[];

const files: Record<string, string> = {
  "functions/execution/generators/index.ts": "export const generators = ['demo'];\n",
  "functions/execution/loop.ts":
    "import { generators } from './generators/index';\nexport const loop = () => generators;\n",
  "functions/worker.ts": "import { loop } from './execution/loop';\nexport default loop;\n",
  "cli/worker.ts": "import { loop } from '../functions/execution/loop';\nloop();\n",
  "cli/start.ts": "import { loop } from '../functions/execution/loop';\nloop();\n",
  // Violations: directly, and through a module that is allowed to import generators.
  "web/pages/job.ts":
    "import { generators } from '../../functions/execution/generators/index';\nexport const page = generators;\n",
  "functions/http/routes/admin-jobs.ts":
    "import { loop } from '../../execution/loop';\nexport const route = loop;\n",
  "functions/domain/jobs.ts":
    "import { generators } from '../execution/generators/index';\nexport const jobs = generators;\n",
  "functions/api.ts": "import { server } from './server';\nexport const api = server;\n",
  // The admin page may use the HTTP layer; the HTTP layer may not mount the admin page.
  "functions/http/errors.ts": "export const STATUS = { INTERNAL: 500 };\n",
  "web/admin-app.ts":
    "import { STATUS } from '../functions/http/errors';\nexport const admin = STATUS;\n",
  "functions/http/app.ts":
    "import { admin } from '../../web/admin-app';\nexport const app = admin;\n",
  "functions/server.ts":
    "import { app } from './http/app';\nimport { admin } from '../web/admin-app';\nexport const server = [app, admin];\n",
  "web/pages/home.ts":
    "import { server } from '../../functions/server';\nexport const home = server;\n",
  "tsconfig.json": JSON.stringify({
    compilerOptions: { module: "ESNext", moduleResolution: "Bundler", target: "ES2023" },
  }),
};

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "regent-import-rules-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }
  const run = spawnSync(
    join(root, "node_modules/.bin/depcruise"),
    [
      "--config",
      join(root, ".dependency-cruiser.cjs"),
      "--output-type",
      "json",
      "functions",
      "web",
      "cli",
    ],
    { cwd: project, encoding: "utf8" },
  );
  expect(run.stdout, run.stderr).toMatch(/^\{/);
  violations = JSON.parse(run.stdout).summary.violations;
});

afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

const offenders = (rule: string) =>
  violations
    .filter((v) => v.rule.name === rule)
    .map((v) => v.from)
    .sort();

describe("layers of the HTTP side", () => {
  it("catches the HTTP layer reaching the admin page, and lets the page use the HTTP layer", () => {
    expect(offenders("http-does-not-reach-the-admin-page")).toEqual(["functions/http/app.ts"]);
  });

  it("catches a lower layer importing the server that composes it; the entries may", () => {
    expect(offenders("only-the-top-composes")).toEqual(["web/pages/home.ts"]);
  });
});

describe("no-generators-outside-the-worker", () => {
  it("catches the admin page, the HTTP layer and the domain reaching generators", () => {
    expect(offenders("no-generators-outside-the-worker")).toEqual([
      "functions/domain/jobs.ts",
      "functions/http/routes/admin-jobs.ts",
      "web/pages/job.ts",
    ]);
  });

  it("lets the execution plane, the Cron Worker and the worker processes import them", () => {
    const allowed = ["functions/worker.ts", "cli/worker.ts", "cli/start.ts", "functions/api.ts"];
    for (const v of violations) expect(allowed).not.toContain(v.from);
  });

  it("also flags the domain's direct import under its own rule", () => {
    expect(offenders("domain-has-no-http-and-no-execution")).toEqual(["functions/domain/jobs.ts"]);
  });
});
