/**
 * `npm run regent -- token create --name NAME --role ROLE`: prints the new token alone on its
 * last line (the only time it is shown). Also `token list` and `token revoke ID`.
 */
import { parseArgs } from "node:util";
import { connect } from "../db/client";
import { migrate } from "../db/migrate";
import type { ApiTokenRole } from "../db/schema";
import {
  createApiToken,
  listApiTokens,
  revokeApiToken,
  TOKEN_ROLES,
} from "../functions/domain/api-tokens";
import { isDomainError } from "../functions/domain/errors";

const USAGE = `usage:
  regent token create --name NAME --role ${TOKEN_ROLES.join("|")}
  regent token list [--all]
  regent token revoke ID`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      role: { type: "string" },
      all: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [noun, verb, arg] = positionals;
  if (values.help || noun !== "token" || !verb) {
    console.error(USAGE);
    return values.help ? 0 : 2;
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
