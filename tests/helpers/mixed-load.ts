/**
 * A mixed workload against a running Regent over HTTP, as its users make it: submit jobs
 * (half of them fail once on purpose), read them back and list the failed ones, record retry
 * intents for failed jobs and execute them. `connections` clients each send one request at a
 * time; the run stops at `durationMs` or `maxRequests`, whichever comes first. It records what
 * every answer said, so that afterwards the database can be held to the acknowledged writes.
 */

export const LOAD_KINDS = ["submit", "read", "intent", "execute"] as const;
export type LoadKind = (typeof LOAD_KINDS)[number];

export interface LoadOptions {
  url: string;
  /** An admin API token: the workload uses submitter, viewer and admin routes. */
  token: string;
  connections: number;
  durationMs: number;
  maxRequests?: number;
  /** A request not answered by then counts as unanswered. */
  requestTimeoutMs?: number;
  /** Makes this run's job texts and idempotency keys its own. */
  label?: string;
}

export interface KindStats {
  requests: number;
  /** Answers by HTTP status. */
  statuses: Record<number, number>;
  /** 4xx and 5xx answers by error code. */
  codes: Record<string, number>;
  latenciesMs: number[];
}

export interface LoadResult {
  requests: number;
  durationMs: number;
  byKind: Record<LoadKind, KindStats>;
  /** Requests that got no HTTP answer at all (refused connection, reset, timeout). */
  unanswered: number;
  unansweredReasons: Record<string, number>;
  /** 503 answers without a Retry-After header. */
  unavailableWithoutRetryAfter: number;
  /** Ids of every 201 answer: jobs (submitted or created by an execute) and intents. */
  acknowledged: { jobs: string[]; intents: string[] };
  /** Texts of submits answered 503: whether they were written after all is for the caller. */
  unavailableSubmitTexts: string[];
}

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
}

export async function runMixedLoad(options: LoadOptions): Promise<LoadResult> {
  const label = options.label ?? `load-${Date.now().toString(36)}`;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const maxRequests = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const byKind = Object.fromEntries(
    LOAD_KINDS.map((kind) => [kind, { requests: 0, statuses: {}, codes: {}, latenciesMs: [] }]),
  ) as unknown as Record<LoadKind, KindStats>;
  const result: LoadResult = {
    requests: 0,
    durationMs: 0,
    byKind,
    unanswered: 0,
    unansweredReasons: {},
    unavailableWithoutRetryAfter: 0,
    acknowledged: { jobs: [], intents: [] },
    unavailableSubmitTexts: [],
  };
  // Work the clients hand each other: failed jobs to retry, intents to execute.
  const failedJobs: string[] = [];
  const offered = new Set<string>();
  const pendingIntents: string[] = [];
  const jobsToRead: string[] = [];
  let sequence = 0;

  const call = async (
    kind: LoadKind,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer | undefined> => {
    result.requests += 1;
    const stats = byKind[kind];
    stats.requests += 1;
    const t = performance.now();
    try {
      const response = await fetch(`${options.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      stats.latenciesMs.push(performance.now() - t);
      stats.statuses[response.status] = (stats.statuses[response.status] ?? 0) + 1;
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = undefined;
      }
      if (response.status >= 400) {
        const code = String((parsed?.error as { code?: unknown } | undefined)?.code ?? "?");
        stats.codes[code] = (stats.codes[code] ?? 0) + 1;
      }
      if (response.status === 503 && !response.headers.get("retry-after")) {
        result.unavailableWithoutRetryAfter += 1;
      }
      return { status: response.status, body: parsed };
    } catch (error) {
      result.unanswered += 1;
      const reason = describeFetchError(error);
      result.unansweredReasons[reason] = (result.unansweredReasons[reason] ?? 0) + 1;
      return undefined;
    }
  };

  const submit = async () => {
    const n = ++sequence;
    const text = `${label}-${n}`;
    // Every third submit goes through the idempotency path (key and job in one transaction).
    const headers: Record<string, string> = n % 3 === 0 ? { "idempotency-key": text } : {};
    const answer = await call(
      "submit",
      "POST",
      "/api/jobs",
      { generator: "demo", input: { text, failAttempts: n % 2 } },
      headers,
    );
    if (answer?.status === 201) {
      const id = idIn(answer, "job");
      result.acknowledged.jobs.push(id);
      jobsToRead.push(id);
    } else if (answer?.status === 503) {
      result.unavailableSubmitTexts.push(text);
    }
  };

  const read = async () => {
    if (jobsToRead.length > 0 && Math.random() < 0.6) {
      const id = jobsToRead[Math.floor(Math.random() * jobsToRead.length)] as string;
      await call("read", "GET", `/api/jobs/${id}`);
      return;
    }
    const answer = await call("read", "GET", "/api/admin/jobs?status=FAILED&limit=50");
    const items = (answer?.body?.items as { id: string; retryIntentId: string | null }[]) ?? [];
    for (const job of items) {
      if (!offered.has(job.id)) {
        offered.add(job.id);
        failedJobs.push(job.id);
      }
    }
  };

  const recordIntent = async () => {
    const sourceJobId = failedJobs.shift() as string;
    const answer = await call("intent", "POST", "/api/admin/retry-intents", {
      sourceJobId,
      reasonCode: "TRANSIENT_FAILURE",
      reasonText: "mixed load: the demo generator fails once on purpose",
    });
    if (answer?.status === 201) {
      const id = idIn(answer, "intent");
      result.acknowledged.intents.push(id);
      pendingIntents.push(id);
    } else if (answer === undefined || answer.status === 503) {
      // It may or may not have been recorded: asking again gets 201 or INTENT_ALREADY_PENDING.
      failedJobs.push(sourceJobId);
    }
  };

  const execute = async () => {
    const intentId = pendingIntents.shift() as string;
    const answer = await call("execute", "POST", `/api/admin/retry-intents/${intentId}/execute`);
    if (answer?.status === 201) {
      const id = idIn(answer, "job");
      result.acknowledged.jobs.push(id);
      jobsToRead.push(id);
    } else if (answer === undefined || answer.status === 503) {
      pendingIntents.push(intentId);
    }
  };

  const client = async () => {
    while (performance.now() < deadline && result.requests < maxRequests) {
      const r = Math.random();
      if (r < 0.15 && failedJobs.length > 0) await recordIntent();
      else if (r < 0.3 && pendingIntents.length > 0) await execute();
      else if (r < 0.65) await submit();
      else await read();
    }
  };
  await Promise.all(Array.from({ length: options.connections }, client));
  result.durationMs = performance.now() - started;
  return result;
}

/** The id of the `job` or `intent` a 201 answer holds; an answer without one is a broken promise. */
function idIn(answer: Answer, field: "job" | "intent"): string {
  const id = (answer.body?.[field] as { id?: unknown } | undefined)?.id;
  if (typeof id !== "string") throw new Error(`a 201 answer without its ${field} id`);
  return id;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === "string") return cause.code;
  if (error instanceof Error) return error.name === "TimeoutError" ? "timeout" : error.message;
  return String(error);
}

/** The value below which `p` of the sorted samples fall (nearest rank). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Answers with a status of 500 or more, except those listed. */
export function serverErrors(result: LoadResult, except: number[] = []): number {
  let total = 0;
  for (const kind of LOAD_KINDS) {
    for (const [status, count] of Object.entries(result.byKind[kind].statuses)) {
      if (Number(status) >= 500 && !except.includes(Number(status))) total += count;
    }
  }
  return total;
}

/** How many answers had this status, over every kind. */
export function answersWith(result: LoadResult, status: number): number {
  return LOAD_KINDS.reduce((sum, kind) => sum + (result.byKind[kind].statuses[status] ?? 0), 0);
}
