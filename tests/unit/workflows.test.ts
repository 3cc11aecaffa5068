/**
 * The GitHub workflows users run: what they promise (which push deploys which stage, behind
 * what, with which configuration), and that the linter `npm test` runs on them
 * (action-validator) catches a broken one.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { API_VARIABLES, CLAIMER_VARIABLES } from "../../infra/config";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "regent-workflows-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  uses?: string;
  environment?: { name: string };
  concurrency?: { group: string; "cancel-in-progress": boolean };
  services?: Record<string, { image: string; ports?: string[] }>;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

function text(name: string): string {
  return readFileSync(join(root, ".github/workflows", name), "utf8");
}

function workflow(name: string): Workflow {
  return parse(text(name)) as Workflow;
}

/** A GitHub Actions expression, as written in a workflow: `${{ … }}`. */
function expression(inner: string): string {
  return `\${{ ${inner} }}`;
}

function lint(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(join(root, "node_modules/.bin/action-validator"), [file], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

describe("ci.yml", () => {
  it("runs npm ci, then npm test against a PostgreSQL service container", () => {
    const { on, jobs } = workflow("ci.yml");
    expect(Object.keys(on).sort()).toEqual(["pull_request", "push", "workflow_call"]);
    const job = jobs.test as Job;
    expect(job.services?.postgres?.image).toMatch(/^postgres:\d+$/);
    expect(job.services?.postgres?.ports).toEqual(["5432:5432"]);
    expect(new URL(job.env?.TEST_DATABASE_URL ?? "").host).toBe("127.0.0.1:5432");
    expect(job.steps.filter((s) => s.run).map((s) => s.run)).toEqual(["npm ci", "npm test"]);
  });
});

describe("deploy.yml", () => {
  const { on, jobs } = workflow("deploy.yml");
  const stages = ["staging", "production"] as const;

  it("deploys main to staging, and a v* tag or a manual run to production", () => {
    expect(on).toEqual({
      push: { branches: ["main"], tags: ["v*"] },
      workflow_dispatch: null,
    });
    expect(jobs.staging?.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(jobs.production?.if).toBe(
      "startsWith(github.ref, 'refs/tags/v') || github.event_name == 'workflow_dispatch'",
    );
  });

  it("deploys a commit only once npm test passed for it: each stage needs the CI workflow's run", () => {
    expect(jobs.test).toEqual({ uses: "./.github/workflows/ci.yml" });
    for (const stage of stages) expect((jobs[stage] as Job).needs, stage).toBe("test");
    // The tests a deploy runs are CI's own, whatever CI's concurrency group cancels.
    const ci = text("ci.yml");
    expect(ci).toContain(`group: ci-${expression("github.workflow")}-${expression("github.ref")}`);
  });

  it("runs each stage in its own environment and concurrency group, never cancelling a deploy", () => {
    expect(Object.keys(jobs).sort()).toEqual(["test", ...stages].sort());
    for (const stage of stages) {
      const job = jobs[stage] as Job;
      expect(job.environment, stage).toEqual({ name: stage });
      expect(job.concurrency, stage).toEqual({
        group: `deploy-${stage}`,
        "cancel-in-progress": false,
      });
    }
  });

  it("installs from the lockfile, then deploys its stage with npm run deploy", () => {
    for (const stage of stages) {
      const runs = (jobs[stage] as Job).steps.filter((s) => s.run).map((s) => s.run);
      expect(runs, stage).toEqual(["npm ci", `npm run deploy -- --stage ${stage}`]);
    }
  });

  it("takes the credentials and the owner's database URL from the environment's secrets, and every deploy variable from its variables", () => {
    const variables = [...API_VARIABLES, ...CLAIMER_VARIABLES, "ACCESS_DISABLED"];
    for (const stage of stages) {
      const deploy = (jobs[stage] as Job).steps.find((s) => s.run?.startsWith("npm run deploy"));
      expect(deploy?.env, stage).toEqual({
        CLOUDFLARE_API_TOKEN: expression("secrets.CLOUDFLARE_API_TOKEN"),
        CLOUDFLARE_DEFAULT_ACCOUNT_ID: expression("secrets.CLOUDFLARE_DEFAULT_ACCOUNT_ID"),
        DATABASE_URL: expression("secrets.DATABASE_OWNER_URL"),
        ...Object.fromEntries(variables.map((name) => [name, expression(`vars.${name}`)])),
      });
    }
  });
});

describe("the workflow linter", () => {
  it("accepts both workflows", async () => {
    for (const name of ["ci.yml", "deploy.yml"]) {
      const result = await lint(join(root, ".github/workflows", name));
      expect(result, name).toEqual({ code: 0, output: "" });
    }
  });

  it("refuses a workflow with a misspelt key, naming where", async () => {
    const broken = join(scratch, "deploy.yml");
    writeFileSync(broken, text("deploy.yml").replace("runs-on:", "run-on:"));
    const result = await lint(broken);
    expect(result.code).toBe(1);
    expect(result.output).toContain("Additional property 'run-on' is not allowed");
    expect(result.output).toContain('"path": "/jobs/staging/runs-on"');
  });

  it("refuses a concurrency setting of the wrong type", async () => {
    const broken = join(scratch, "ci.yml");
    writeFileSync(
      broken,
      text("ci.yml").replace("cancel-in-progress: true", "cancel-in-progress: sometimes"),
    );
    const result = await lint(broken);
    expect(result.code).toBe(1);
    expect(result.output).toContain('"path": "/concurrency');
  });
});
