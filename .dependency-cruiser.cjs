/**
 * Import rules of Regent's layout (DESIGN §1.3 and §8). Run by `npm test`.
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
