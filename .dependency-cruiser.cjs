/**
 * Import rules of Regent's layout (docs/architecture.md). Run by `npm test`.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: "no-generators-outside-the-worker",
      comment:
        "Admins approve intent, workers execute: the HTTP layer, the API entry, the domain, the admin page and the admin CLI never import generators, directly or through another module. The execution plane, the Cron Worker entry and the Node processes that run the worker loop (cli/worker.ts, cli/start.ts) may.",
      severity: "error",
      from: {
        path: "^(functions/(http|domain)/|functions/api\\.ts|web/|cli/regent\\.ts)",
      },
      to: { path: "^functions/execution/generators/", reachable: true },
    },
    {
      name: "domain-has-no-http-and-no-execution",
      comment: "The domain is plain functions over the database: no HTTP, no generators, no pages.",
      severity: "error",
      from: { path: "^functions/domain/" },
      to: { path: "^(functions/(http|execution)/|web/|hono)" },
    },
    {
      name: "http-does-not-reach-the-admin-page",
      comment:
        "The API is a layer below the admin page: the page may use the HTTP layer's caller context, credential checks and error table, never the other way. functions/server.ts composes the two.",
      severity: "error",
      from: { path: "^functions/http/" },
      to: { path: "^web/" },
    },
    {
      name: "only-the-top-composes",
      comment:
        "Nothing below functions/server.ts imports it: the entries (functions/api.ts, cli/start.ts) and tests build the server; the layers it composes never reach back up.",
      severity: "error",
      from: { path: "^(db|functions/(domain|http|execution|config)|web)/" },
      to: { path: "^functions/server\\.ts$" },
    },
    {
      name: "db-imports-nothing-above-it",
      comment: "db/ is the bottom layer.",
      severity: "error",
      from: { path: "^db/" },
      to: { path: "^(functions|web|cli|infra|tests)/" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js"] },
  },
};
