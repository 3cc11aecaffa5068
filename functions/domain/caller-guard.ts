/**
 * One request, one statement: the credential a request presents is checked by the database in
 * the statement that does the request's work, not in a statement of its own before it. Each
 * statement is a round trip, 20 ms or more away from a Worker.
 *
 * A guarded database handle carries the credential (an API token's hash, an admin session's
 * id, or an identity the application proved itself) and the role the route asks for. A read
 * through it (`execute`) becomes one statement that first proves the caller
 * (`regent_caller`, which refuses with UNAUTHENTICATED or FORBIDDEN) and then reads; the caller
 * and whatever the guard reads beside it (what every admin page shows) come back with the rows.
 * A unit of work through it carries the credential in its argument, and the database settles
 * the caller before the work (`regent_authorized`): the actor its audit events name is the one
 * the database proved. Only `execute` is offered: a query built any other way would not carry
 * the credential, so it is refused rather than run unchecked.
 */
import { type SQL, sql } from "drizzle-orm";
import { type Db, type Executor, rowsOf } from "../../db/types";
import { refusalFrom } from "./refusals";

/** What a request presents, for the database to prove. */
export type Credential =
  | { kind: "token"; sha256: string }
  | { kind: "session"; id: string }
  | { kind: "known"; principal: CallerJson };

/** A caller as the database answers it (regent_caller). */
export interface CallerJson {
  actor: string;
  roles: string[];
  via: "token" | "access" | "session";
  label: string;
  tokenId?: string;
  sessionId?: string;
  expiresAt?: string;
}

export interface CallerGuard {
  credential: Credential;
  /** The role the route asks for; null asks none. */
  role: string | null;
  /** Values read beside the caller in every guarded read, by name (the admin page's context). */
  beside?: Record<string, SQL>;
  /** Told what the database answered for the caller, with the `beside` values. */
  resolved(caller: CallerJson, beside: Record<string, unknown>): void;
  /** Whether a statement has proved the credential yet. */
  proven: boolean;
}

const GUARD = Symbol("regent.callerGuard");

type Guarded = Db & { [GUARD]: { inner: Db; guard: CallerGuard } };

const CALLER = "regent_caller";
const FOUND = "regent_found";
const besideColumn = (name: string) => `regent_beside_${name}`;

/** The guard of a handle made by `guardedDb`, with the handle it wraps; undefined for any other. */
export function guardOf(db: Executor): { inner: Db; guard: CallerGuard } | undefined {
  return (db as Partial<Guarded>)[GUARD];
}

/** The credential as a unit of work's argument carries it (`p.caller`). */
export function callerArgument(guard: CallerGuard): {
  credential: Credential;
  role: string | null;
} {
  return { credential: guard.credential, role: guard.role };
}

/** The statement part that proves the caller: `regent_caller(credential, role)`. */
function callerCall(guard: CallerGuard): SQL {
  return sql`regent_caller(${JSON.stringify(guard.credential)}::jsonb, ${guard.role}::text)`;
}

/**
 * Proves the guard's caller in a statement of its own, for a request that sent none (or failed
 * before it could): the refusal, if any, is thrown as the database words it.
 */
export async function proveCaller(inner: Db, guard: CallerGuard): Promise<void> {
  await readGuarded(inner, guard, sql`SELECT 1 AS one`);
}

async function readGuarded(inner: Db, guard: CallerGuard, query: SQL) {
  const beside = Object.entries(guard.beside ?? {});
  const result = await inner
    .execute(sql`
    SELECT g.*, q.*
    FROM (SELECT ${callerCall(guard)} AS ${sql.identifier(CALLER)}
                 ${sql.join(
                   beside.map(
                     ([name, value]) => sql`, ${value} AS ${sql.identifier(besideColumn(name))}`,
                   ),
                   sql``,
                 )}) g
    LEFT JOIN LATERAL (SELECT true AS ${sql.identifier(FOUND)}, x.* FROM (${query}) x) q ON true`)
    .catch((error: unknown) => {
      // The caller's refusal (and any refusal of the read) as the DomainError it words.
      throw refusalFrom(error) ?? error;
    });
  const rows = rowsOf<Record<string, unknown>>(result);
  const first = rows[0] ?? {};
  guard.proven = true;
  guard.resolved(
    first[CALLER] as CallerJson,
    Object.fromEntries(beside.map(([name]) => [name, first[besideColumn(name)]])),
  );
  const own = new Set([CALLER, FOUND, ...beside.map(([name]) => besideColumn(name))]);
  return {
    rows: rows
      .filter((row) => row[FOUND] === true)
      .map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => !own.has(key)))),
  };
}

function refuse(): never {
  throw new Error(
    "a guarded database handle runs execute(sql) only, so that every statement proves its caller",
  );
}

/**
 * `inner`, guarded by `guard`: `execute` proves the caller in the same statement as the read;
 * units of work (functions/domain/units.ts) find the guard and pass the credential on.
 */
export function guardedDb(inner: Db, guard: CallerGuard): Db {
  const guarded = {
    [GUARD]: { inner, guard },
    execute: (query: SQL) => readGuarded(inner, guard, query),
    select: refuse,
    selectDistinct: refuse,
    insert: refuse,
    update: refuse,
    delete: refuse,
    transaction: refuse,
    with: refuse,
  };
  return guarded as unknown as Db;
}
