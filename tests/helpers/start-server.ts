import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

/** A port the OS says is free right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface StartedRegent {
  url: string;
  output: () => string;
  /** Sends SIGTERM to npm and its children; resolves once the whole group has exited. */
  stop: () => Promise<void>;
}

/**
 * Runs `npm start` as a user would, with `env` added, and waits until it says where it listens.
 * It runs in its own process group so that stopping it stops npm and everything under it.
 * `migrate` (the default) starts it with --migrate, as the owner of a fresh database would;
 * false starts it as the application's role does, on a database migrated already.
 */
export async function startRegent(
  env: Record<string, string>,
  timeoutMs = 60_000,
  options: { migrate?: boolean } = {},
): Promise<StartedRegent> {
  const port = await freePort();
  const args = options.migrate === false ? ["start"] : ["start", "--", "--migrate"];
  const child: ChildProcess = spawn("npm", args, {
    env: { ...process.env, PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  // "close": every stdio stream has ended, so the children's last words are in `output`.
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not come up:\n${output}`)),
      timeoutMs,
    );
    const check = () => {
      if (output.includes(`Regent is running on ${url}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      await exited;
    },
  };
}

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
