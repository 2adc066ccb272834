/**
 * The page's files: the HTML, script and stylesheet beside this module (copied next to the
 * compiled module by `npm run build`, so they are found from src/ and from dist/ alike) and
 * uPlot, the charting library, from node_modules. Read once at start; nothing comes from
 * the network.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface Asset {
  body: Buffer;
  contentType: string;
}

const STATIC_FILES: Record<string, string> = {
  "/": "index.html",
  "/static/app.js": "app.js",
  "/static/charts.js": "charts.js",
  "/static/app.css": "app.css",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

export const STATIC_DIR = fileURLToPath(new URL("./static/", import.meta.url));

/** The directory of uPlot's distributed files. */
export function uplotDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve("uplot"));
}

/** URL path → file contents, for every file the page loads. */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const files: [string, string][] = Object.entries(STATIC_FILES).map(([url, file]) => [url, path.join(STATIC_DIR, file)]);
  const vendor = uplotDir();
  files.push(["/vendor/uPlot.esm.js", path.join(vendor, "uPlot.esm.js")], ["/vendor/uPlot.min.css", path.join(vendor, "uPlot.min.css")]);
  const assets = new Map<string, Asset>();
  for (const [url, file] of files) {
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (err) {
      throw new Error(`the dashboard's file ${file} is missing (${err instanceof Error ? err.message : String(err)}); run npm run build, or npm ci for uplot`, { cause: err });
    }
    assets.set(url, { body, contentType: TYPES[path.extname(file)] ?? "application/octet-stream" });
  }
  return assets;
}
