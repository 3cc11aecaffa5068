import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Hono } from "hono";
import type { Db } from "../../db/types";
import { loadConfig } from "../../functions/config/api";
import { createServer } from "../../functions/server";

export interface Served {
  origin: string;
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 (a free port) for a Hono app. */
export function listen(app: Pick<Hono, "fetch">): Promise<Served> {
  return new Promise((resolve) => {
    const server = serve(
      { fetch: app.fetch, port: 0, hostname: "127.0.0.1" },
      (info: AddressInfo) => {
        resolve({
          origin: `http://127.0.0.1:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              // Keep-alive sockets from the browser would hold close() open.
              (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    );
  });
}

/** The whole server as `npm start` builds it, served for a real browser. */
export function serveAdmin(deps: { db: Db; sessionSecret: string }): Promise<Served> {
  const server = createServer({
    db: deps.db,
    config: loadConfig({ SESSION_SECRET: deps.sessionSecret }),
    clientAddress: (c) => getConnInfo(c).remote.address,
  });
  return listen(server);
}
