/**
 * Headless Chromium (Debian's package, hack/chromium.sh) driven over the DevTools protocol
 * with puppeteer-core, for the dashboard's browser tests, screenshots and benchmark.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import puppeteer from "puppeteer-core";
import type { Browser } from "puppeteer-core";

const exec = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../../hack/chromium.sh", import.meta.url));

/** Installs Chromium when it is missing and returns its path. */
export async function ensureChromium(): Promise<string> {
  await exec("bash", [SCRIPT, "install"], { timeout: 600_000 });
  return (await exec("bash", [SCRIPT, "path"])).stdout.trim();
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = await ensureChromium();
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Root in a container has no user namespaces for the sandbox; the pages are our own.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run", "--no-default-browser-check"],
    defaultViewport: { width: 1280, height: 900 },
    protocolTimeout: 60_000,
  });
}
