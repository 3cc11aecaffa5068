import { createServer, type IncomingMessage, type Server } from "node:http";
import pg from "pg";

/**
 * A stand-in for Neon's SQL-over-HTTP endpoint, for the Neon driver's `neon()` (the API
 * Worker's DATABASE_DRIVER=http) against a local PostgreSQL. It speaks the format the driver
 * in node_modules/@neondatabase/serverless sends and reads:
 *
 * - `POST /sql`, the connection string in `Neon-Connection-String`; the body one statement
 *   `{ query, params }`, or a batch `{ queries: [...] }` run in one transaction (isolation,
 *   read-only and deferrable from the `Neon-Batch-*` headers);
 * - the answer `{ command, rowCount, rows, fields }` (a batch: `{ results: [...] }`), values as
 *   PostgreSQL's text (`Neon-Raw-Text-Output`), rows as arrays (`Neon-Array-Mode`), each field
 *   with its `dataTypeID` so that the driver parses it;
 * - a refused statement is HTTP 400 with `message` and PostgreSQL's error fields (`code`,
 *   `detail`, `constraint`…), which the driver copies onto the error it throws.
 *
 * Statements run through node-postgres on a pool per connection string. With `delayMs` each
 * request and each answer is held that long: a database that far away, one round trip per
 * statement. Only loopback databases are served.
 */
export async function startNeonHttp(
  options: { delayMs?: number } = {},
): Promise<{ endpoint: string; requests: () => number; close: () => Promise<void> }> {
  const delayMs = options.delayMs ?? 0;
  let requests = 0;
  const pools = new Map<string, pg.Pool>();
  const wait = () =>
    delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, delayMs)) : undefined;

  function poolFor(connectionString: string): pg.Pool {
    let pool = pools.get(connectionString);
    if (!pool) {
      const host = new URL(connectionString).hostname;
      if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) {
        throw Object.assign(new Error("only loopback databases are served"), { status: 403 });
      }
      pool = new pg.Pool({ connectionString, max: 10 });
      pool.on("error", () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  }

  const server: Server = createServer(async (request, response) => {
    requests += 1;
    await wait();
    let status = 200;
    let answer: unknown;
    try {
      if (
        request.method !== "POST" ||
        new URL(request.url ?? "/", "http://x").pathname !== "/sql"
      ) {
        throw Object.assign(new Error("POST /sql only"), { status: 404 });
      }
      const connection = request.headers["neon-connection-string"];
      if (typeof connection !== "string") {
        throw Object.assign(new Error("Neon-Connection-String is required"), { status: 400 });
      }
      const body = JSON.parse(await readBody(request)) as Statement | { queries: Statement[] };
      const client = await poolFor(connection).connect();
      try {
        if ("queries" in body) {
          await client.query(begin(request));
          try {
            const results = [];
            for (const statement of body.queries) results.push(await run(client, statement));
            await client.query("COMMIT");
            answer = { results };
          } catch (error) {
            await client.query("ROLLBACK").catch(() => undefined);
            throw error;
          }
        } else {
          answer = await run(client, body);
        }
      } finally {
        client.release();
      }
    } catch (error) {
      const e = error as Error & Record<string, unknown>;
      status = typeof e.status === "number" ? e.status : 400;
      answer = { message: e.message, ...pick(e, ERROR_FIELDS) };
    }
    await wait();
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}/sql`,
    /** Requests received so far: each one round trip to the database. */
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pools.values()].map((pool) => pool.end()));
    },
  };
}

interface Statement {
  query: string;
  params?: unknown[];
}

/** PostgreSQL's error fields as Neon answers them (the driver copies these onto its error). */
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
];

function pick(from: Record<string, unknown>, keys: string[]) {
  return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));
}

/** Every value as PostgreSQL's text: the driver parses it by the field's type. */
const asText = { getTypeParser: () => (value: string) => value };

async function run(client: pg.PoolClient, statement: Statement) {
  const result = await client.query({
    text: statement.query,
    values: statement.params ?? [],
    rowMode: "array",
    types: asText,
  });
  return {
    command: result.command,
    rowCount: result.rowCount,
    rows: result.rows,
    fields: result.fields.map((f) => ({
      name: f.name,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeID: f.dataTypeID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: "text",
    })),
    rowAsArray: true,
  };
}

function begin(request: IncomingMessage): string {
  const isolation = request.headers["neon-batch-isolation-level"];
  const levels: Record<string, string> = {
    ReadUncommitted: "READ UNCOMMITTED",
    ReadCommitted: "READ COMMITTED",
    RepeatableRead: "REPEATABLE READ",
    Serializable: "SERIALIZABLE",
  };
  const parts = ["BEGIN"];
  if (typeof isolation === "string" && levels[isolation]) {
    parts.push(`ISOLATION LEVEL ${levels[isolation]}`);
  }
  if (request.headers["neon-batch-read-only"] === "true") parts.push("READ ONLY");
  if (request.headers["neon-batch-deferrable"] === "true") parts.push("DEFERRABLE");
  return parts.join(" ");
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
