import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

const INSTALL_HINT =
  "Install Debian's package (sudo apt-get install -y chromium; CI does it with CI=true .ci/run)\nor point CHROMIUM_PATH at a Chromium or Chrome binary.";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/**
 * Debian's Chromium, or the browser CHROMIUM_PATH names. The browser suite fails, never skips,
 * when there is none: a skipped browser test would report a green run that checked nothing.
 */
export function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) {
      throw new Error(
        `CHROMIUM_PATH is set to ${configured}, but there is no file there.\n${INSTALL_HINT}`,
      );
    }
    return configured;
  }
  const found = CANDIDATES.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      [
        `No Chromium found for the browser tests (looked at ${CANDIDATES.join(", ")}).`,
        INSTALL_HINT,
      ].join("\n"),
    );
  }
  return found;
}

/** One browser per test file; the flags keep it from reaching for a network it does not have. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
