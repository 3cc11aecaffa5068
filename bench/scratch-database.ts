/**
 * Every benchmark runs on a database of its own, created on the server that DATABASE_URL or
 * TEST_DATABASE_URL names (a superuser URL), so that a run never meets another's rows.
 */
import pg from "pg";

export function benchServer(prefix: string) {
  const server = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (!server?.startsWith("postgres")) {
    console.error("set DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server (superuser)");
    process.exit(2);
  }
  /** The URL of `database` on the same server. */
  const at = (database: string) => {
    const u = new URL(server);
    u.pathname = `/${database}`;
    return u.toString();
  };
  /** One statement on the server's default database (CREATE and DROP DATABASE). */
  async function admin(text: string) {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  }
  return { server, name: `${prefix}_${Date.now().toString(36)}`, at, admin };
}
