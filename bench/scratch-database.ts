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

/**
 * Queues `jobs` PENDING demo jobs with one JOB_CREATED each, as submissions would leave them,
 * in one transaction: ids made in SQL (cuid2 would take seconds for 20,000), then analysed so
 * that the drain's plans are those of a table in use.
 */
export async function queueDemoJobs(raw: pg.Client, jobs: number): Promise<void> {
  await raw.query("BEGIN");
  await raw.query(
    `INSERT INTO regeneration_jobs (id, generator, input, created_by, created_at)
     SELECT 'bench' || lpad(g::text, 7, '0'), 'demo', jsonb_build_object('text', 'job ' || g),
            'bench', now() + g * interval '1 microsecond'
     FROM generate_series(1, $1) g`,
    [jobs],
  );
  await raw.query(
    `INSERT INTO audit_events (type, actor, subject_type, subject_id, data)
     SELECT 'JOB_CREATED', 'bench', 'job', id, '{"generator":"demo"}' FROM regeneration_jobs`,
  );
  await raw.query("COMMIT");
  await raw.query("VACUUM ANALYZE");
}
