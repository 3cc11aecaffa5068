/**
 * Puts SST's own platform types in `.sst/platform/` before `tsc` runs (`pretest`,
 * `pretypecheck`), so that `sst.config.ts` and `infra/` are checked against the SST release in
 * package-lock.json. `sst install` writes them, with the Cloudflare provider's types, from the
 * npm registry alone: Bun is the locked devDependency (infra/sst-cli.ts), and SST's check for
 * Pulumi, which it would download from elsewhere and needs only to deploy, is skipped.
 *
 * It runs only when `.sst/platform/config.d.ts` is missing or was written for another `sst`
 * version (the stamp `.sst/platform-types.json`, written after a successful install). Runs
 * that start together (a test run and a typecheck in the same checkout) take turns through a
 * lock file, and the later one finds the types current.
 */
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { LOCAL_SST, linkBun, PROJECT_ROOT, sstEnvironment, sstVersion } from "./sst-cli";

const SST_DIR = join(PROJECT_ROOT, ".sst");
const PLATFORM = join(SST_DIR, "platform");
const DECLARATIONS = join(PLATFORM, "config.d.ts");
const STAMP = join(SST_DIR, "platform-types.json");
const LOCK = join(SST_DIR, "platform-types.lock");

/** How long to wait for another run's install; a cold one takes about a minute. */
const LOCK_WAIT_MS = 10 * 60_000;

/** True when SST's types for `version` are in place. */
export function platformTypesCurrent(version: string): boolean {
  if (!existsSync(DECLARATIONS)) return false;
  try {
    return (JSON.parse(readFileSync(STAMP, "utf8")) as { sst?: string }).sst === version;
  } catch {
    return false;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(SST_DIR, { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(LOCK, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(LOCK, "utf8"));
    } catch {
      continue;
    }
    // An empty file is a lock whose owner has not written its pid yet: wait for it.
    if (Number.isInteger(owner) && owner > 0 && !isRunning(owner)) {
      rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${LOCK} is held by process ${owner}; remove it if no install is running`);
    }
    await sleep(500);
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: "inherit" });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Runs `sst install` when SST's types are missing or stale; resolves once they are current.
 * Throws, with SST's reason printed above, when they cannot be made.
 */
export async function ensurePlatformTypes(): Promise<void> {
  const version = sstVersion();
  if (platformTypesCurrent(version)) return;
  await withLock(async () => {
    if (platformTypesCurrent(version)) return;
    const started = performance.now();
    console.log(`generating the platform types of SST ${version} (sst install)`);
    // Whatever is there belongs to another SST version, or to no install at all.
    rmSync(PLATFORM, { recursive: true, force: true });
    rmSync(STAMP, { force: true });
    linkBun();
    const status = await run(LOCAL_SST, ["install"], {
      ...sstEnvironment(),
      SST_SKIP_DEPENDENCY_CHECK: "1",
      SST_TELEMETRY_DISABLED: "1",
      // `sst install` asks for a stage, though it writes nothing for one.
      SST_STAGE: process.env.SST_STAGE || "local",
    });
    if (status !== 0 || !existsSync(DECLARATIONS)) {
      throw new Error(`sst install exited with status ${status} and wrote no ${DECLARATIONS}`);
    }
    writeFileSync(STAMP, `${JSON.stringify({ sst: version })}\n`);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`SST ${version}'s platform types are in .sst/platform (${seconds} s)`);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensurePlatformTypes().catch((error) => {
    console.error(
      `could not generate SST's platform types: ${error instanceof Error ? error.message : error}`,
    );
    process.exit(1);
  });
}
