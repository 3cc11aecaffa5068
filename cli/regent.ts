/**
 * `npm run regent -- token create --name NAME --role ROLE`: prints the new token alone on its
 * last line (the only time it is shown). Also `token list` and `token revoke ID`.
 *
 * `audit seal` seals what became final in the audit log; `audit verify` recomputes every seal
 * and exits 1 naming the first event changed, removed or added behind a seal's back, so that a
 * scheduled job or an operator can act on the exit code alone.
 *
 * `audit export --to FILE [--from-seal N]` archives the sealed events and their seals as NDJSON
 * (functions/domain/audit-archive.ts); `audit verify --file FILE` checks such a file alone,
 * without a database, with the same exit codes, and prints its head digest to keep.
 */
import { open, rename, rm, stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { connect, type Db } from "../db/client";
import { migrate } from "../db/migrate";
import type { ApiTokenRole } from "../db/schema";
import {
  createApiToken,
  listApiTokens,
  revokeApiToken,
  TOKEN_ROLES,
} from "../functions/domain/api-tokens";
import {
  type ArchiveFailure,
  type ArchiveLink,
  exportAuditArchive,
  verifyArchive,
} from "../functions/domain/audit-archive";
import {
  type AuditSealSummary,
  type AuditVerification,
  auditSealLag,
  sealAudit,
  verifyAudit,
} from "../functions/domain/audit-seals";
import { isDomainError } from "../functions/domain/errors";

const USAGE = `usage:
  regent token create --name NAME --role ${TOKEN_ROLES.join("|")}
  regent token list [--all]
  regent token revoke ID
  regent audit seal
  regent audit verify [--file FILE]
  regent audit export --to FILE [--from-seal N]`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      role: { type: "string" },
      all: { type: "boolean", default: false },
      file: { type: "string" },
      to: { type: "string" },
      "from-seal": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [noun, verb, arg] = positionals;
  if (values.help || (noun !== "token" && noun !== "audit") || !verb) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if (noun === "audit") {
    if (verb === "verify" && values.file !== undefined) return verifyFile(values.file);
    if (verb === "export") {
      const fromSeal = values["from-seal"];
      if (!values.to || (fromSeal !== undefined && !/^[1-9]\d*$/.test(fromSeal))) {
        console.error(`audit export needs --to FILE, and --from-seal a seal id if given\n${USAGE}`);
        return 2;
      }
      return audit({
        verb,
        to: values.to,
        fromSeal: fromSeal === undefined ? undefined : Number(fromSeal),
      });
    }
    if (verb !== "seal" && verb !== "verify") {
      console.error(USAGE);
      return 2;
    }
    return audit({ verb });
  }
  if (verb === "create" && (!values.name || !values.role)) {
    console.error(`token create needs --name and --role\n${USAGE}`);
    return 2;
  }
  if (verb === "create" && !TOKEN_ROLES.includes(values.role as ApiTokenRole)) {
    console.error(`--role must be one of ${TOKEN_ROLES.join(", ")}`);
    return 2;
  }
  if (verb === "revoke" && !arg) {
    console.error(`token revoke needs the token id\n${USAGE}`);
    return 2;
  }
  const database = await connect({ url: process.env.DATABASE_URL });
  const ctx = { actor: `cli:${process.env.USER ?? "operator"}` };
  try {
    await migrate(database);
    switch (verb) {
      case "create": {
        const { token, record } = await createApiToken(database.db, ctx, {
          name: values.name as string,
          role: values.role as ApiTokenRole,
        });
        console.log(
          `created ${record.role} token "${record.name}" (id ${record.id}); it is shown once:`,
        );
        console.log(token);
        return 0;
      }
      case "list": {
        for (const t of await listApiTokens(database.db, { includeRevoked: values.all })) {
          const state = t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : "active";
          console.log(`${t.id}\t${t.role}\t${t.name}\t${state}`);
        }
        return 0;
      }
      case "revoke": {
        const t = await revokeApiToken(database.db, ctx, arg as string);
        console.log(`revoked ${t.id} (${t.name})`);
        return 0;
      }
      default:
        console.error(USAGE);
        return 2;
    }
  } catch (error) {
    if (isDomainError(error)) {
      console.error(`${error.code}: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await database.close();
  }
}

type AuditCommand =
  | { verb: "seal" | "verify" }
  | { verb: "export"; to: string; fromSeal: number | undefined };

async function audit(command: AuditCommand): Promise<number> {
  const { verb } = command;
  if (verb === "export" && (await stat(command.to).catch(() => undefined))) {
    console.error(`${command.to} exists; an archive is never overwritten: name another file`);
    return 2;
  }
  const database = await connect({ url: process.env.DATABASE_URL });
  try {
    await migrate(database);
    if (verb === "export") return await exportToFile(database.db, command.to, command.fromSeal);
    if (verb === "verify") {
      const verdict = await verifyAudit(database.db);
      if (!verdict.ok) {
        console.error(`audit log tampered: ${describeProblem(verdict)}`);
        return 1;
      }
      console.log(
        `audit log intact: ${verdict.seals} seals, ${verdict.events} events sealed, ${verdict.unsealed} not yet sealed`,
      );
      if (verdict.head) console.log(describeHead(verdict.head));
      return 0;
    }
    const seal = await sealAudit(database.db, `cli:${process.env.USER ?? "operator"}`);
    if (seal) {
      console.log(
        seal.eventCount > 0
          ? `sealed ${seal.eventCount === 1 ? "1 event" : `${seal.eventCount} events`} (ids ${seal.fromEventId + 1}–${seal.toEventId}) as seal ${seal.id}`
          : `seal ${seal.id} covers no event; it records how far the next seal may go`,
      );
      console.log(describeHead(seal));
      if (seal.nextWatermarkId > seal.toEventId) {
        console.log(
          `events up to ${seal.nextWatermarkId} go into the next seal, once every transaction open now has ended`,
        );
      }
      return 0;
    }
    const lag = await auditSealLag(database.db);
    if (lag.reason === "empty") console.log("nothing to seal: the audit log is empty");
    else if (lag.reason === "caught up") {
      console.log(
        `nothing to seal: every event up to ${lag.head.toEventId} is sealed (seal ${lag.head.id}) and none came since`,
      );
    } else {
      const oldest = lag.oldest
        ? `; the oldest open one is pid ${lag.oldest.pid}${lag.oldest.database ? ` in database ${lag.oldest.database}` : ""}${lag.oldest.since ? `, open since ${lag.oldest.since.toISOString()}` : ""}`
        : "";
      console.log(
        `nothing became final yet: a transaction already open at seal ${lag.head.id} (xid below ${lag.nextXmax}) ` +
          "is still open. Transaction ids are shared by every database on the server, so it may be " +
          `in any of them${oldest}. Seal again once it has ended.`,
      );
    }
    return 0;
  } finally {
    await database.close();
  }
}

/**
 * Writes beside the target and renames at the end, so that FILE only ever holds a whole
 * archive: an export that fails or is killed leaves at most FILE.partial.
 */
async function exportToFile(db: Db, to: string, fromSeal: number | undefined): Promise<number> {
  const partial = `${to}.partial`;
  const file = await open(partial, "w");
  let result: Awaited<ReturnType<typeof exportAuditArchive>>;
  try {
    result = await exportAuditArchive(
      db,
      async (text) => {
        await file.write(text);
      },
      fromSeal === undefined ? {} : { fromSeal },
    );
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    await file.close();
  }
  if (!result.ok) {
    await rm(partial, { force: true });
    console.error(`audit log tampered, nothing archived: ${describeFailure(result)}`);
    return 1;
  }
  await rename(partial, to);
  console.log(`archived ${result.seals} seals, ${result.events} events to ${to}`);
  console.log(describeLink("head", result.head));
  console.error(`${result.unsealed} events after the last seal left out: they are not sealed yet`);
  return 0;
}

/** `audit verify --file`: reads the archive alone; no database is opened. */
async function verifyFile(path: string): Promise<number> {
  const file = await open(path);
  let verdict: Awaited<ReturnType<typeof verifyArchive>>;
  try {
    verdict = await verifyArchive(file.readLines());
  } finally {
    await file.close();
  }
  if (!verdict.ok) {
    const verdictWord = verdict.problem === "malformed" ? "not valid" : "tampered";
    console.error(
      `audit archive ${verdictWord}: ${describeFailure(verdict)} (${path} line ${verdict.line})`,
    );
    return 1;
  }
  console.log(`audit archive intact: ${verdict.seals} seals, ${verdict.events} events`);
  console.log(
    verdict.anchor.sealId === null
      ? "anchor: the start of the log"
      : `${describeLink("anchor", verdict.anchor)} (the head of the archive before this one, or a digest recorded then, must match it)`,
  );
  console.log(describeLink("head", verdict.head));
  return 0;
}

function describeFailure(failure: ArchiveFailure): string {
  return failure.problem === "malformed" ? failure.reason : describeProblem(failure);
}

function describeLink(name: string, link: ArchiveLink): string {
  return link.sealId === null
    ? `${name}: no seal`
    : `${name}: seal ${link.sealId}, events up to ${link.toEventId}, digest ${link.digest}`;
}

function describeProblem(verdict: Extract<AuditVerification, { ok: false }>): string {
  if (verdict.problem === "seal chain broken" || verdict.eventId === undefined) {
    return `the seal chain is broken at seal ${verdict.sealId}: a seal was altered or removed`;
  }
  const where = verdict.problem === "added" ? ", inside the range it covers" : "";
  return `event ${verdict.eventId} was ${verdict.problem} after seal ${verdict.sealId}${where}`;
}

function describeHead(seal: AuditSealSummary): string {
  return `latest seal ${seal.id}: events up to ${seal.toEventId}, sealed ${seal.sealedAt.toISOString()} by ${seal.sealedBy}, digest ${seal.digest}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
