/**
 * `npm run typecheck`, and the typecheck of `npm test`: `tsc --noEmit` over tsconfig.json,
 * reporting only the project's own files.
 *
 * `sst.config.ts` references SST's platform (`.sst/platform/config.d.ts`), which imports SST's
 * TypeScript sources rather than declarations, so `skipLibCheck` does not cover them and
 * `exclude` cannot drop files that are imported. Checked with this project's stricter options
 * they raise hundreds of errors that are SST's, not ours. So only the project's files are
 * checked; SST's sources still give `sst.config.ts` and `infra/` their types.
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));

function isOurs(file: ts.SourceFile): boolean {
  const path = relative(root, file.fileName);
  return !path.startsWith("..") && !/(^|\/)(node_modules|\.sst)\//.test(path);
}

const configPath = ts.findConfigFile(root, ts.sys.fileExists, "tsconfig.json");
if (!configPath) throw new Error(`no tsconfig.json in ${root}`);
const read = ts.readConfigFile(configPath, ts.sys.readFile);
const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, root);
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });

const ours = program.getSourceFiles().filter(isOurs);
const diagnostics: ts.Diagnostic[] = [
  ...(read.error ? [read.error] : []),
  ...parsed.errors,
  ...program.getOptionsDiagnostics(),
  ...program.getGlobalDiagnostics(),
  ...ours.flatMap((file) => [
    ...program.getSyntacticDiagnostics(file),
    ...program.getSemanticDiagnostics(file),
  ]),
];

const host: ts.FormatDiagnosticsHost = {
  getCanonicalFileName: (name) => name,
  getCurrentDirectory: () => root,
  getNewLine: () => "\n",
};
if (diagnostics.length > 0) {
  const format = process.stdout.isTTY
    ? ts.formatDiagnosticsWithColorAndContext
    : ts.formatDiagnostics;
  process.stdout.write(format(diagnostics, host));
  console.log(`${diagnostics.length} error(s) in ${ours.length} checked files`);
  process.exit(1);
}
console.log(`no type errors in ${ours.length} files`);
