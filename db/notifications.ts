import pg from "pg";
import { APPLICATION_NAME } from "./neon";

/** The channel the statements that create jobs notify (`pg_notify`), in their transaction. */
export const JOB_CREATED_CHANNEL = "regent_job_created";

export interface NotificationListener {
  /** Stops listening and closes the connection. */
  stop(): Promise<void>;
}

export interface ListenOptions {
  /** The first pause before reconnecting after the connection is lost; it doubles up to 30 s. */
  retryMs?: number;
  /** Receives one JSON line per lost connection and per failed reconnect. */
  log?: (line: string) => void;
}

const MAX_RETRY_MS = 30_000;

/**
 * LISTENs on `channel` over a connection of its own and calls `onNotify` for every
 * notification. A lost connection (a restart, a failover, pg_terminate_backend) is replaced,
 * after a pause that grows while reconnecting fails; once listening again, `onNotify` is called
 * once, since notifications sent meanwhile were lost. Never throws: it is a way to be told
 * sooner, and whatever polls beside it still finds the work.
 */
export function listenForNotifications(
  url: string,
  channel: string,
  onNotify: () => void,
  options: ListenOptions = {},
): NotificationListener {
  const firstRetryMs = options.retryMs ?? 500;
  const log = options.log ?? ((line: string) => console.warn(line));
  let stopped = false;
  let client: pg.Client | undefined;
  let retryMs = firstRetryMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let connecting: Promise<void> | undefined;

  const reconnectLater = (error: unknown) => {
    if (stopped || timer) return;
    log(
      JSON.stringify({
        event: "listen.lost",
        channel,
        retryMs,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
    timer = setTimeout(() => {
      timer = undefined;
      connecting = open(true);
    }, retryMs);
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
  };

  async function open(again: boolean): Promise<void> {
    const next = new pg.Client({
      connectionString: url,
      fallback_application_name: APPLICATION_NAME,
    });
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      if (client === next) client = undefined;
      next.end().catch(() => undefined);
      reconnectLater(error);
    };
    next.on("error", fail);
    next.on("end", () => fail(new Error("the connection ended")));
    next.on("notification", (message) => {
      if (message.channel === channel) onNotify();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      fail(error);
      return;
    }
    if (stopped) {
      failed = true;
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    retryMs = firstRetryMs;
    if (again) onNotify();
  }

  connecting = open(false);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await connecting;
      const last = client;
      client = undefined;
      if (last) {
        last.removeAllListeners("end");
        await last.end().catch(() => undefined);
      }
    },
  };
}
