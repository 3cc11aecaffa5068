import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../db/client";

const dir = mkdtempSync(join(tmpdir(), "regent-pglite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the embedded database admits one process", () => {
  it("refuses a second opener with a clear message, and admits the next one after close", async () => {
    const dataDir = join(dir, "a");
    const first = await connect({ dataDir });
    await expect(connect({ dataDir })).rejects.toThrow(
      /in use by process \d+ \(is npm start running\?\)/,
    );
    await first.close();
    const second = await connect({ dataDir });
    expect(second.kind).toBe("pglite");
    expect(readFileSync(join(dataDir, "regent.lock"), "utf8")).toBe(String(process.pid));
    await second.close();
    expect(existsSync(join(dataDir, "regent.lock"))).toBe(false);
  });

  it("takes over a lock left by a process that no longer runs", async () => {
    const dataDir = join(dir, "b");
    await (await connect({ dataDir })).close();
    // pid 2^22+1 is above Linux's pid limit: no such process can be running.
    writeFileSync(join(dataDir, "regent.lock"), String(2 ** 22 + 1));
    const database = await connect({ dataDir });
    expect(readFileSync(join(dataDir, "regent.lock"), "utf8")).toBe(String(process.pid));
    await database.close();
  });
});
