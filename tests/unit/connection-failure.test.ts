import { DrizzleQueryError } from "drizzle-orm/errors";
import { describe, expect, it } from "vitest";
import {
  isConnectionFailure,
  RETRY_AFTER_SECONDS,
  unavailableRefusal,
} from "../../functions/domain/errors";

/**
 * A lost or unobtainable connection is told apart from a refused statement: the first is
 * answered 503 and may be tried again, the second keeps its own status. The shapes below are
 * those node-postgres, Drizzle and Node produce.
 */
const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const wrapped = (cause: Error) => new DrizzleQueryError("insert into x values ($1)", ["p"], cause);

describe("isConnectionFailure", () => {
  it.each([
    ["the socket ended mid-statement", new Error("Connection terminated unexpectedly")],
    [
      "a transaction's ROLLBACK on the dead client",
      wrapped(new Error("Client has encountered a connection error and is not queryable")),
    ],
    ["no connection in time", new Error("timeout exceeded when trying to connect")],
    [
      "a connect that timed out",
      new Error("Connection terminated due to connection timeout", {
        cause: new Error("Connection terminated unexpectedly"),
      }),
    ],
    [
      "pg_terminate_backend or a fast shutdown (57P01)",
      wrapped(withCode("terminating connection due to administrator command", "57P01")),
    ],
    ["a crash of another backend (57P02)", withCode("terminating connection", "57P02")],
    ["a server starting up (57P03)", withCode("the database system is starting up", "57P03")],
    ["a connection exception (08006)", withCode("connection failure", "08006")],
    ["too many connections (53300)", withCode("sorry, too many clients already", "53300")],
    ["a refused connect", withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED")],
    ["a reset socket", wrapped(withCode("read ECONNRESET", "ECONNRESET"))],
    [
      "Node's AggregateError of a connect to several addresses",
      new AggregateError([withCode("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")], ""),
    ],
  ])("is true for %s", (_, error) => {
    expect(isConnectionFailure(error)).toBe(true);
    expect(unavailableRefusal(error)).toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      details: { retryAfterSeconds: RETRY_AFTER_SECONDS },
    });
  });

  it.each([
    ["a unique violation", wrapped(withCode("duplicate key value", "23505"))],
    ["an invariant trigger's refusal", wrapped(withCode("a finished job never changes", "RG001"))],
    ["a query cancelled by statement_timeout (57014)", withCode("canceling statement", "57014")],
    ["a serialization failure", withCode("could not serialize access", "40001")],
    ["a bug", new TypeError("Cannot read properties of undefined")],
    ["a message that merely mentions a connection", new Error("Connection lost in the middle")],
    [
      "a pool Regent itself ended (a bug, not an outage)",
      new Error("Cannot use a pool after calling end on the pool"),
    ],
    ["nothing at all", undefined],
    ["a string", "Connection terminated unexpectedly"],
  ])("is false for %s", (_, error) => {
    expect(isConnectionFailure(error)).toBe(false);
    expect(unavailableRefusal(error)).toBeUndefined();
  });

  it("ends on a cause chain that loops", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(isConnectionFailure(a)).toBe(false);
  });
});
