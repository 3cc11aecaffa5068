import { createServer, type Server } from "node:http";
import { connect as tcpConnect } from "node:net";
import { WebSocketServer } from "ws";

export interface WsProxyOptions {
  /**
   * Network latency to simulate, one way: every message is held this long before it is passed
   * on, in either direction, and the WebSocket upgrade answers after a round trip of it. Order
   * is kept (timers of one duration fire in the order they were set). Default 0: no delay.
   */
  delayMs?: number;
}

/**
 * A WebSocket-to-TCP proxy in the manner of Neon's wsproxy: a client connects to
 * `ws://127.0.0.1:PORT/v1?address=HOST:PORT` and its binary frames are piped to that PostgreSQL.
 * It lets the Neon serverless driver (used by the Workers bundle) talk to a local PostgreSQL.
 * Only loopback addresses are proxied. With `delayMs` it stands for a database that far away.
 * `opened()` counts the WebSockets clients have opened so far: each one a Worker's subrequest.
 */
export async function startWsProxy(
  options: WsProxyOptions = {},
): Promise<{ address: string; opened: () => number; close: () => Promise<void> }> {
  const delayMs = options.delayMs ?? 0;
  const later = (f: () => void) => (delayMs > 0 ? setTimeout(f, delayMs) : f());
  const server: Server = createServer((_req, res) => {
    res.writeHead(426).end("websocket only");
  });
  const wss = new WebSocketServer({ noServer: true });
  let opened = 0;
  server.on("upgrade", (request, socket, head) => {
    // The upgrade request travels one way and its answer the other: one round trip.
    const upgrade = () =>
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request));
    if (delayMs > 0) setTimeout(upgrade, 2 * delayMs);
    else upgrade();
  });
  wss.on("connection", (socket, request) => {
    opened += 1;
    const url = new URL(request.url ?? "/", "http://proxy");
    const [host, port] = (url.searchParams.get("address") ?? "").split(":");
    if (!host || !port || !["127.0.0.1", "localhost", "::1"].includes(host)) {
      socket.close(1008, "only loopback addresses are proxied");
      return;
    }
    const tcp = tcpConnect(Number(port), host);
    const pending: Buffer[] = [];
    let open = false;
    let closed = false;
    tcp.on("connect", () => {
      open = true;
      for (const chunk of pending.splice(0)) tcp.write(chunk);
    });
    socket.on("message", (data) => {
      const chunk = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data as ArrayBuffer);
      later(() => {
        if (closed) return;
        if (open) tcp.write(chunk);
        else pending.push(chunk);
      });
    });
    tcp.on("data", (chunk) => later(() => !closed && socket.send(chunk)));
    tcp.on("close", () => later(() => socket.close()));
    tcp.on("error", () => later(() => socket.close()));
    socket.on("close", () => {
      closed = true;
      tcp.destroy();
    });
    socket.on("error", () => {
      closed = true;
      tcp.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}/v1`,
    opened: () => opened,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
