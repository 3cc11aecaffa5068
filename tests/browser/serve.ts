import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createAdminApp } from "../../web/admin-app";
import type { AdminDeps } from "../../web/context";

export interface Served {
  origin: string;
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 (a free port) for a Hono app. */
export function listen(app: Hono): Promise<Served> {
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

/** The admin page mounted where the main app mounts it, served for a real browser. */
export function serveAdmin(deps: AdminDeps): Promise<Served> {
  const app = new Hono();
  app.route("/admin", createAdminApp(deps));
  return listen(app);
}
