/**
 * Lets `tsc` check `sst.config.ts` and `infra/` where `sst install` has not run (it downloads
 * providers). The standard `/// <reference path="./.sst/platform/config.d.ts" />` names a file
 * only `sst install` writes; until it exists, this puts a one-line file there that points at
 * `infra/sst-platform.d.ts`. An existing file is never touched, and `sst install` replaces the
 * stand-in with SST's own declarations. Run before `npm test` and `npm run typecheck`.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const platform = new URL("../.sst/platform/", import.meta.url);
const declarations = new URL("config.d.ts", platform);

if (!existsSync(declarations)) {
  mkdirSync(platform, { recursive: true });
  writeFileSync(
    declarations,
    `// Stand-in written by infra/platform-types.ts; \`sst install\` replaces it.\n/// <reference path="../../infra/sst-platform.d.ts" />\n`,
  );
  console.log(`wrote ${fileURLToPath(declarations)} (points at infra/sst-platform.d.ts)`);
}
