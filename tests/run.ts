/**
 * `npm test`: every check CI makes, in one command. Static checks first (types, lint, schema
 * drift, workflows, import rules), then the vitest suites. Each static check counts as one
 * test in the closing line `N passed, N failed`, which is derived from vitest's JSON report.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  output: string;
}

function run(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  echo = false,
): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (echo) process.stdout.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("close", (code) =>
      resolve({ name, ok: code === 0, seconds: (performance.now() - started) / 1000, output }),
    );
  });
}

async function schemaDrift(): Promise<Outcome> {
  // drizzle-kit reads `out` relative to the project, so the scratch copy lives in .regent/.
  const scratch = join(".regent", `drift-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  try {
    cpSync("db/migrations", scratch, { recursive: true });
    const before = readdirSync(scratch).length;
    const outcome = await run(
      "schema drift (drizzle-kit generate makes nothing new)",
      "drizzle-kit",
      ["generate"],
      {
        DRIZZLE_OUT: scratch,
      },
    );
    const added = readdirSync(scratch).length - before;
    const clean = /No schema changes, nothing to migrate/.test(outcome.output);
    if (!outcome.ok || added > 0 || !clean) {
      return {
        ...outcome,
        ok: false,
        output: `${outcome.output}\nThe schema has changes no migration holds (or drizzle-kit failed): run npm run db:generate.`,
      };
    }
    return outcome;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every GitHub workflow through action-validator (one file per run), as one check. */
async function workflows(): Promise<Outcome> {
  const name = "workflows (action-validator)";
  const folder = join(".github", "workflows");
  const files = existsSync(folder)
    ? readdirSync(folder)
        .filter((file) => /\.ya?ml$/.test(file))
        .map((file) => join(folder, file))
    : [];
  if (files.length === 0) {
    return { name, ok: false, seconds: 0, output: `no workflow in ${folder}` };
  }
  const outcomes = await Promise.all(
    files.map((file) => run(`${name}: ${file}`, "action-validator", [file])),
  );
  return {
    name: `${name}: ${files.length} files`,
    ok: outcomes.every((o) => o.ok),
    seconds: Math.max(...outcomes.map((o) => o.seconds)),
    output: outcomes
      .filter((o) => !o.ok)
      .map((o) => `${o.name}\n${o.output}`)
      .join("\n"),
  };
}

// `npm test -- --static` runs only the static checks; `npm test -- <vitest filters>` only vitest.
const staticOnly = process.argv[2] === "--static";
const only = staticOnly ? [] : process.argv.slice(2);
const checks: Promise<Outcome>[] = [
  run("typecheck (tsc, the project's files)", "tsx", ["tests/typecheck.ts"]),
  run("lint and format (biome)", "biome", ["check", "."]),
  schemaDrift(),
  workflows(),
];
if (existsSync(".dependency-cruiser.cjs")) {
  checks.push(
    run("import rules (dependency-cruiser)", "depcruise", [
      "--config",
      ".dependency-cruiser.cjs",
      // depcruise refuses a folder that does not exist (web/ may not yet).
      ...["db", "functions", "web", "cli", "bench"].filter((dir) => existsSync(dir)),
    ]),
  );
}

const statics = only.length > 0 ? [] : await Promise.all(checks);
if (staticOnly) {
  const failedChecks = statics.filter((c) => !c.ok).length;
  console.log(`${statics.length - failedChecks} passed, ${failedChecks} failed`);
  process.exit(failedChecks === 0 ? 0 : 1);
}
for (const check of statics) {
  console.log(`${check.ok ? "✓" : "✗"} ${check.name} (${check.seconds.toFixed(1)}s)`);
  if (!check.ok) console.log(check.output.trim().split("\n").slice(-40).join("\n"));
}

const reportDir = mkdtempSync(join(tmpdir(), "regent-vitest-"));
const report = join(reportDir, "report.json");
const vitest = await run(
  "vitest",
  "vitest",
  ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...only],
  {},
  true,
);

let passed = statics.filter((c) => c.ok).length;
let failed = statics.length - passed;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numTotalTests: number;
    testResults: {
      status: string;
      message?: string;
      name: string;
      startTime?: number;
      endTime?: number;
    }[];
  };
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  // A file that failed to load has no tests to count; count it as a failure.
  failed += json.testResults.filter((r) => r.status === "failed" && r.message).length;
  if (json.numTotalTests === 0) failed += 1;
  printSlowest(json.testResults);
} else {
  failed += 1;
  console.log("vitest wrote no report");
}
rmSync(reportDir, { recursive: true, force: true });
if (!vitest.ok && failed === 0) failed = 1;

/**
 * The test files that took longest, from vitest's own report: where the suite's minutes go,
 * and the first place to look when it grows slower.
 */
function printSlowest(files: { name: string; startTime?: number; endTime?: number }[]) {
  const timed = files
    .filter((f) => f.startTime !== undefined && f.endTime !== undefined)
    .map((f) => ({
      name: relative(process.cwd(), f.name),
      ms: (f.endTime ?? 0) - (f.startTime ?? 0),
    }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 10);
  if (timed.length === 0) return;
  console.log("slowest test files:");
  for (const f of timed) console.log(`  ${(f.ms / 1000).toFixed(1).padStart(6)}s  ${f.name}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
