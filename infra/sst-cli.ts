/**
 * The SST CLI as the project installs it: the `sst` devDependency, run from node_modules, with
 * the `bun` devDependency as the Bun it runs. Node only; never imported by `sst.config.ts`.
 *
 * SST runs Bun from its own folder (`<user config dir>/sst/bin/bun`) and, unless told
 * otherwise, downloads the Bun release it was built against into that folder, from outside the
 * npm registry. Linking the locked Bun there and naming its version in SST_BUN_VERSION makes
 * SST accept it as it is, so the version that runs is the one in package-lock.json.
 *
 * `npm run sst -- <arguments>` runs this file: the locked SST, so prepared, with those arguments
 * (`npm run sst -- secret set SessionSecret … --stage production`).
 */
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  symlinkSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root folder, where `sst.config.ts` and node_modules are. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** The locked SST CLI, as npm links it. */
export const LOCAL_SST = join(PROJECT_ROOT, "node_modules", ".bin", "sst");

const windows = process.platform === "win32";

function installedVersion(pkg: string): string {
  const manifest = join(PROJECT_ROOT, "node_modules", pkg, "package.json");
  if (!existsSync(manifest)) {
    throw new Error(`${pkg} is not installed: run npm install (it is a devDependency)`);
  }
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

/** The installed `sst` version: the key that says whether SST's types are current. */
export function sstVersion(): string {
  return installedVersion("sst");
}

/** The version of the installed `bun` package, which SST is told to accept. */
export function bunVersion(): string {
  return installedVersion("bun");
}

/**
 * Where SST looks for Bun: Go's `os.UserConfigDir()` (which SST uses) joined with `sst/bin`,
 * worked out here for the running user rather than written down.
 */
export function sstBunPath(env: NodeJS.ProcessEnv = process.env): string {
  let config: string;
  if (windows) config = env.APPDATA || join(homedir(), "AppData", "Roaming");
  else if (process.platform === "darwin")
    config = join(homedir(), "Library", "Application Support");
  else {
    const xdg = env.XDG_CONFIG_HOME;
    config = xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".config");
  }
  return join(config, "sst", "bin", windows ? "bun.exe" : "bun");
}

/**
 * Points SST's Bun at the locked one. The link is replaced atomically (a new link renamed over
 * the old path), so that two runs at once, or SST replacing its own Bun later, never leave a
 * half-written file; what was there (SST's own download, another checkout's link) is SST's
 * cache, not the user's, and SST itself replaces it the same way.
 */
export function linkBun(env: NodeJS.ProcessEnv = process.env): string {
  // The bun package names its binary bun.exe on every platform.
  const target = realpathSync(join(PROJECT_ROOT, "node_modules", "bun", "bin", "bun.exe"));
  const link = sstBunPath(env);
  let current: string | undefined;
  try {
    current = realpathSync(link);
  } catch {
    // Missing, or a link to a checkout that is gone: made below.
  }
  if (current !== target) {
    mkdirSync(join(link, ".."), { recursive: true });
    const temporary = `${link}.${process.pid}.tmp`;
    symlinkSync(target, temporary);
    renameSync(temporary, link);
  }
  return link;
}

/** What SST must be given to run the locked Bun without fetching its own. */
export function sstEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, SST_BUN_VERSION: env.SST_BUN_VERSION || bunVersion() };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  linkBun();
  const child = spawn(LOCAL_SST, process.argv.slice(2), {
    stdio: "inherit",
    env: sstEnvironment(),
  });
  child.on("error", (error) => {
    console.error(`could not run ${LOCAL_SST} (${error.message}): run npm install`);
    process.exit(1);
  });
  child.on("close", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
