/**
 * Both Worker bundles, built as SST deploys them (esbuild, ESM, minified, workerd's package
 * conditions), stay within 1 MiB gzip each: a tenth of what Cloudflare accepts on a paid plan,
 * and a bundle that grows past it has pulled in something a Worker should not carry (a Node
 * driver, a generator in the API). docs/deployment.md records the measured sizes.
 */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { bundleWorker } from "../helpers/workerd";

const BUDGET_GZIP_BYTES = 1024 * 1024;

describe("Worker bundle budgets", () => {
  for (const entry of ["functions/api.ts", "functions/worker.ts"]) {
    it(`${entry} stays within 1 MiB gzip, minified as SST bundles it`, async () => {
      const bundle = await bundleWorker(entry, { minify: true });
      const raw = Buffer.byteLength(bundle.text);
      const gzip = gzipSync(bundle.text).byteLength;
      expect(raw).toBeGreaterThan(0);
      expect(gzip, `${entry}: ${raw} bytes, ${gzip} bytes gzip`).toBeLessThanOrEqual(
        BUDGET_GZIP_BYTES,
      );
    });
  }
});
