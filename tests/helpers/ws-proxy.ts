import { createServer, type Server } from "node:http";
import { connect as tcpConnect } from "node:net";
import { WebSocketServer } from "ws";

/**
 * A WebSocket-to-TCP proxy in the manner of Neon's wsproxy: a client connects to
 * `ws://127.0.0.1:PORT/v1?address=HOST:PORT` and its binary frames are piped to that PostgreSQL.
 * It lets the Neon serverless driver (used by the Workers bundle) talk to a local PostgreSQL.
 * Only loopback addresses are proxied.
 */
export async function startWsProxy(): Promise<{ address: string; close: () => Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(426).end("websocket only");
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket, request) => {
    const url = new URL(request.url ?? "/", "http://proxy");
    const [host, port] = (url.searchParams.get("address") ?? "").split(":");
    if (!host || !port || !["127.0.0.1", "localhost", "::1"].includes(host)) {
      socket.close(1008, "only loopback addresses are proxied");
      return;
    }
    const tcp = tcpConnect(Number(port), host);
    const pending: Buffer[] = [];
    let open = false;
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
      if (open) tcp.write(chunk);
      else pending.push(chunk);
    });
    tcp.on("data", (chunk) => socket.send(chunk));
    tcp.on("close", () => socket.close());
    tcp.on("error", () => socket.close());
    socket.on("close", () => tcp.destroy());
    socket.on("error", () => tcp.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}/v1`,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
