import { describe, expect, it, vi } from "vitest";
import type { Outcome } from "../../functions/execution/claimer";
import {
  type BatchWriter,
  Finisher,
  type FinisherCounts,
} from "../../functions/execution/finisher";

/**
 * The finisher's group commit on its own. The batch writer is a fake of the finishing
 * statement that behaves as one does: a batch is written whole or refused whole (it throws),
 * and it finishes only the jobs it still holds. The real statement, and a real refusal by
 * PostgreSQL, are in tests/integration/worker-finisher.test.ts.
 */

const done = (jobId: string): Outcome => ({
  jobId,
  ok: true,
  content: JSON.stringify({ text: jobId }),
  contentSha256: "",
  generatorVersion: "test@1",
});

const failed = (jobId: string): Outcome => ({
  jobId,
  ok: false,
  error: { code: "DEMO_FAILURE", message: `${jobId} failed` },
});

const ids = (n: number, prefix = "job") =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, "0")}`);

const newCounts = (): FinisherCounts => ({
  completed: 0,
  failed: 0,
  refused: 0,
  timings: { finishMs: 0 },
});

/**
 * A writer like the finishing statement: `refuses(batch)` makes the whole batch fail with
 * `error`; ids in `notHeld` belong to no claim of ours and are left out of the answer.
 */
function fakeWriter(
  options: {
    refuses?: (batch: Outcome[]) => boolean;
    notHeld?: ReadonlySet<string>;
    error?: Error;
  } = {},
) {
  const calls: Outcome[][] = [];
  const written: Outcome[] = [];
  const write: BatchWriter = async (batch) => {
    calls.push([...batch]);
    await Promise.resolve();
    if (options.refuses?.(batch)) {
      throw options.error ?? new Error("invalid input syntax for type json");
    }
    const finished = new Set<string>();
    for (const o of batch) {
      if (options.notHeld?.has(o.jobId)) continue;
      written.push(o);
      finished.add(o.jobId);
    }
    return finished;
  };
  return { write, calls, written };
}

async function finishAll(writer: BatchWriter, outcomes: Outcome[], batchSize: number) {
  const counts = newCounts();
  const finisher = new Finisher(writer, batchSize, counts);
  for (const o of outcomes) finisher.add(o);
  await finisher.close();
  return counts;
}

describe("Finisher", () => {
  it("writes every outcome once, in batches of at most batchSize", async () => {
    const writer = fakeWriter();
    const outcomes = ids(25).map((id, i) => (i % 5 === 4 ? failed(id) : done(id)));
    const counts = await finishAll(writer.write, outcomes, 10);

    // Two writes are in flight at once, so the last two may reach the writer in either order.
    expect(writer.calls.map((batch) => batch.length).sort((a, b) => b - a)).toEqual([10, 10, 5]);
    expect(writer.written.map((o) => o.jobId).sort()).toEqual(ids(25));
    expect(counts).toMatchObject({ completed: 20, failed: 5, refused: 0 });
  });

  it("writes a lone outcome after a short linger, without waiting for close", async () => {
    const writer = fakeWriter();
    const counts = newCounts();
    new Finisher(writer.write, 500, counts).add(done("alone"));
    await vi.waitFor(() => expect(counts.completed).toBe(1), { timeout: 2000 });
    expect(writer.calls).toHaveLength(1);
  });

  it("keeps at most two writes in flight and holds the runner back while a full batch waits", async () => {
    const gates: (() => void)[] = [];
    let open = 0;
    let most = 0;
    const write: BatchWriter = async (batch) => {
      open += 1;
      most = Math.max(most, open);
      await new Promise<void>((resolve) => gates.push(resolve));
      open -= 1;
      return new Set(batch.map((o) => o.jobId));
    };
    const counts = newCounts();
    const finisher = new Finisher(write, 10, counts);
    for (const id of ids(30)) finisher.add(done(id));
    await vi.waitFor(() => expect(gates).toHaveLength(2));

    let roomMade = false;
    const room = finisher.ready();
    expect(room).toBeInstanceOf(Promise);
    void room?.then(() => {
      roomMade = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(roomMade).toBe(false);
    expect(gates).toHaveLength(2);

    gates.shift()?.();
    await vi.waitFor(() => expect(roomMade).toBe(true));
    const closing = finisher.close();
    while (counts.completed < 30) {
      await vi.waitFor(() => expect(gates.length).toBeGreaterThan(0));
      gates.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await closing;
    expect(most).toBe(2);
    expect(counts).toMatchObject({ completed: 30, failed: 0, refused: 0 });
  });

  it("splits a refused batch and retries its halves, so one poison outcome holds none of the others back", async () => {
    const poison = "job005";
    const writer = fakeWriter({
      refuses: (batch) => batch.some((o) => o.jobId === poison && o.ok),
    });
    const outcomes = ids(16).map((id, i) => (i % 4 === 3 ? failed(id) : done(id)));
    const counts = await finishAll(writer.write, outcomes, 16);

    const others = ids(16).filter((id) => id !== poison);
    const writtenOthers = writer.written.filter((o) => o.jobId !== poison);
    expect(writtenOthers.map((o) => o.jobId).sort()).toEqual(others);
    expect(writtenOthers).toEqual(outcomes.filter((o) => o.jobId !== poison));
    // Halving, not one statement per outcome: the refused path (16, 8, 4, 2, 1), the halves
    // beside it, and the poison's failure.
    expect(writer.calls.length).toBeLessThanOrEqual(2 * Math.log2(16) + 2);
    expect(counts).toMatchObject({ completed: 11, failed: 5, refused: 0 });
  });

  it("records a lone output the writer still refuses as the job's failure, OUTPUT_REJECTED", async () => {
    const writer = fakeWriter({
      refuses: (batch) => batch.some((o) => o.ok),
      error: new Error(`invalid input syntax for type json\u0000${"x".repeat(5000)}`),
    });
    const counts = await finishAll(writer.write, [done("rejected")], 10);

    expect(writer.calls.map((batch) => batch.map((o) => o.ok))).toEqual([[true], [false]]);
    expect(writer.written).toHaveLength(1);
    const [recorded] = writer.written;
    expect(recorded).toMatchObject({ jobId: "rejected", ok: false });
    const error = (recorded as Extract<Outcome, { ok: false }>).error;
    expect(error.code).toBe("OUTPUT_REJECTED");
    expect(error.message).toMatch(
      /^the database refused the output: invalid input syntax for type json/,
    );
    expect(error.message).toHaveLength(2000);
    expect(error.message).not.toContain("\u0000");
    expect(counts).toMatchObject({ completed: 0, failed: 1, refused: 0 });
  });

  it("drops a lone failure the writer refuses, leaving its job to the sweeper, and counts it nowhere", async () => {
    const writer = fakeWriter({
      refuses: (batch) => batch.some((o) => o.jobId === "job001" || o.jobId === "job002"),
    });
    // job001 is a failure; job002 an output whose OUTPUT_REJECTED failure is refused as well.
    const outcomes = [done("job000"), failed("job001"), done("job002"), done("job003")];
    const counts = await finishAll(writer.write, outcomes, 10);

    expect(writer.written.map((o) => o.jobId).sort()).toEqual(["job000", "job003"]);
    // Each tried alone once, then given up: no endless retry of what the database refuses.
    const alone = writer.calls.filter((batch) => batch.length === 1).map(([o]) => o);
    expect(alone.filter((o) => o?.jobId === "job001")).toEqual([failed("job001")]);
    expect(alone.filter((o) => o?.jobId === "job002").map((o) => o?.ok)).toEqual([true, false]);
    expect(counts).toMatchObject({ completed: 2, failed: 0, refused: 0 });
  });

  it("counts as refused the outcomes of jobs the writer did not finish (no longer this claim's)", async () => {
    const notHeld = new Set(["job001", "job002", "job004"]);
    const writer = fakeWriter({ notHeld });
    const outcomes = [done("job000"), done("job001"), failed("job002"), failed("job003")];
    outcomes.push(done("job004"), done("job005"));
    const counts = await finishAll(writer.write, outcomes, 10);

    expect(writer.calls).toHaveLength(1);
    expect(counts).toMatchObject({ completed: 2, failed: 1, refused: 3 });
  });
});
