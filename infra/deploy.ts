/**
 * `npm run deploy -- --stage <stage>`: the only way Regent reaches Cloudflare. In this order,
 * stopping at the first failure:
 *
 * 1. the stage and its configuration are checked (infra/config.ts, as `sst.config.ts` will);
 * 2. DATABASE_URL must name the stage's PostgreSQL database: there is no embedded fallback;
 * 3. the migrations are applied to it (db/migrate.ts);
 * 4. `sst deploy --stage <stage>` runs, only then.
 *
 * New Workers never meet an old schema, and a migration that fails deploys nothing. The Workers
 * of the previous release run on the new schema until SST replaces them, so a migration must
 * keep them working (add in one release, drop what they used in a later one).
 *
 * The SST CLI is the `sst` devDependency, run from node_modules with the locked Bun
 * (infra/sst-cli.ts); SST_BIN names another one to run instead.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import { loadConfig } from "../functions/config/api";
import { postgresUrl } from "../functions/config/fields";
import { builtInCatalog } from "../functions/execution/generators";
import { readStageConfig, StageConfigError } from "./config";
import { LOCAL_SST, linkBun, sstEnvironment } from "./sst-cli";

class DeployError extends Error {
  override readonly name = "DeployError";
}

const USAGE = "usage: npm run deploy -- --stage <stage>";

/** The stage from `--stage <stage>` or `--stage=<stage>`; nothing else is accepted. */
export function parseStage(args: readonly string[]): string {
  let stage: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "--stage") stage = args[++i];
    else if (arg.startsWith("--stage=")) stage = arg.slice("--stage=".length);
    else throw new DeployError(`unexpected argument "${arg}"\n${USAGE}`);
  }
  if (!stage) throw new DeployError(`no stage given\n${USAGE}`);
  return stage;
}

/** Host and database of a URL, for messages: never its user or password. */
function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

/**
 * The SST CLI to run and its environment: SST_BIN when set (its owner looks after its Bun),
 * otherwise the locked `sst` of node_modules with the locked Bun.
 */
export function sstCommand(env: NodeJS.ProcessEnv): { command: string; env: NodeJS.ProcessEnv } {
  const chosen = env.SST_BIN?.trim();
  if (chosen) return { command: chosen, env };
  return { command: LOCAL_SST, env: sstEnvironment(env) };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: "inherit", env });
    child.on("error", (error) =>
      reject(
        new DeployError(
          `could not run ${command} (${error.message}): run npm install (SST is a devDependency), or set SST_BIN to an SST CLI`,
        ),
      ),
    );
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

export async function deploy(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const stage = parseStage(args);
  const config = readStageConfig(stage, env);
  for (const warning of config.warnings) console.warn(`warning: ${warning}`);

  const checked = postgresUrl.safeParse(env.DATABASE_URL);
  if (!checked.success) {
    throw new DeployError(`DATABASE_URL ${checked.error.issues[0]?.message}`);
  }
  const url = checked.data;
  if (!url) {
    throw new DeployError(
      `DATABASE_URL is not set: it must name the PostgreSQL database of stage "${stage}" (the one its DatabaseUrl secret points at), as the role that owns its tables, so that its migrations are applied before the Workers are deployed`,
    );
  }

  console.log(`applying migrations to ${describe(url)} for stage "${stage}"`);
  try {
    const database = await connect({ url, max: 1 });
    try {
      // The catalog is in place before the new API accepts its first job.
      await migrate(database, { policy: loadConfig(env).policy, generators: builtInCatalog() });
    } finally {
      await database.close();
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DeployError(`migration failed, nothing was deployed: ${message}`);
  }
  console.log("migrations applied");

  let sst: ReturnType<typeof sstCommand>;
  try {
    sst = sstCommand(env);
    if (sst.command === LOCAL_SST) linkBun(env);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new DeployError(
      `could not prepare the SST CLI (${message}); the migrations stay applied`,
    );
  }
  const status = await run(sst.command, ["deploy", "--stage", stage], sst.env);
  if (status !== 0) {
    throw new DeployError(
      `sst deploy --stage ${stage} exited with status ${status}; the migrations stay applied, and running the same command again re-applies nothing`,
    );
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  deploy(process.argv.slice(2), process.env).catch((error) => {
    const refused = error instanceof DeployError || error instanceof StageConfigError;
    console.error(
      refused ? `deploy: ${error.message}` : `deploy failed: ${error?.stack ?? String(error)}`,
    );
    process.exit(1);
  });
}
