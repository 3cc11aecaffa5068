import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type pg from "pg";
import { APPLICATION_NAME } from "../../db/client";

/**
 * Ends every session Regent holds on `database`, as a PostgreSQL restart or a failover does
 * (pg_terminate_backend sends the same 57P01 "terminating connection due to administrator
 * command" a fast shutdown does). Sessions are recognised by Regent's application_name; the
 * caller's own session is spared. Returns how many were ended.
 */
export async function terminateRegentBackends(
  client: pg.Client,
  database: string,
): Promise<number> {
  const { rows } = await client.query<{ ended: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS ended
     FROM pg_stat_activity
     WHERE datname = $1 AND application_name = $2 AND pid <> pg_backend_pid()`,
    [database, APPLICATION_NAME],
  );
  return rows[0]?.ended ?? 0;
}

/** Regent's sessions on `database` that wait for a lock, with what they run. */
export async function regentSessionsWaitingForLocks(
  client: pg.Client,
  database: string,
): Promise<{ pid: number; query: string }[]> {
  const { rows } = await client.query<{ pid: number; query: string }>(
    `SELECT pid, query FROM pg_stat_activity
     WHERE datname = $1 AND application_name = $2 AND wait_event_type = 'Lock'`,
    [database, APPLICATION_NAME],
  );
  return rows;
}

export interface GeneratorService {
  url: string;
  /** How many requests each job id (its `Regent-Job-Id` header) has made. */
  seen: Map<string, number>;
  /** From now on, answer at once, and answer every request still held. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A stand-in for the `http` generator's remote service on 127.0.0.1 that holds every request
 * open until released, so a worker can be caught with jobs in flight; it counts each job id
 * it is sent, so a job run twice would show.
 */
export async function slowGeneratorService(): Promise<GeneratorService> {
  const seen = new Map<string, number>();
  const held: ServerResponse[] = [];
  let holding = true;
  const answer = (res: ServerResponse) => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(200, { "content-type": "application/json" }).end('{"generated":true}');
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      const id = String(req.headers["regent-job-id"] ?? "");
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (holding) held.push(res);
      else answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/generate`,
    seen,
    release() {
      holding = false;
      for (const res of held.splice(0)) answer(res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held.splice(0)) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
