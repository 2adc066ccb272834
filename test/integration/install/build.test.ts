/**
 * The production bundle, as the Dockerfile makes it, without a Docker engine: compile with
 * tsconfig.build.json into a temporary directory, lay it out as the runtime stage's COPY
 * lines do, and run it. Also checks that the compiled code imports nothing but Node
 * built-ins and production dependencies (the image has no devDependencies).
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { HELP } from "../../../src/config.ts";
import { requireKubeconfig } from "../../support/kubectl.ts";
import { parseDockerfile } from "../../unit/install/dockerfile.ts";

const exec = promisify(execFile);
const ROOT = new URL("../../../", import.meta.url).pathname;

/** Runs node on a script of the bundle; never throws on a non-zero exit. */
async function runNode(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, args, { cwd, timeout: 60_000, env: { ...process.env, NODE_ENV: "production" } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(err) };
  }
}

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? jsFiles(join(dir, e.name)) : Promise.resolve(e.name.endsWith(".js") ? [join(dir, e.name)] : []))));
  return nested.flat();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("production bundle", function () {
  this.timeout(240_000);
  let app: string;

  before(async () => {
    app = await mkdtemp(join(tmpdir(), "aviary-image-"));
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const build = await runNode([tsc, "-p", "tsconfig.build.json", "--outDir", join(app, "dist")], ROOT);
    assert.equal(build.code, 0, `tsc failed:\n${build.stdout}${build.stderr}`);

    // The runtime stage's layout, COPY by COPY. node_modules is linked from the work tree (a
    // superset of the production tree; the import check below keeps the bundle to the latter).
    const runtime = parseDockerfile(await readFile(join(ROOT, "Dockerfile"), "utf8")).at(-1)!;
    for (const copy of runtime.instructions.filter((i) => i.op === "COPY")) {
      const parts = copy.args.split(/\s+/);
      const from = parts.find((p) => p.startsWith("--from="))?.slice("--from=".length);
      const [source, target] = parts.filter((p) => !p.startsWith("--"));
      assert.ok(source && target, `COPY ${copy.args}`);
      const dest = resolve(app, target);
      await mkdir(dirname(dest), { recursive: true });
      if (from === "build" && source === "/src/dist") continue; // compiled above, into app/dist
      if (from === "deps" && source === "/app/node_modules") await symlink(join(ROOT, "node_modules"), dest, "dir");
      else if (from === "deps" && source.startsWith("/app/")) await cp(join(ROOT, source.slice("/app/".length)), dest, { recursive: true });
      else if (from === undefined) await cp(join(ROOT, source), dest, { recursive: true });
      else assert.fail(`the build test does not know how to reproduce COPY ${copy.args}; teach it`);
    }
    assert.ok(existsSync(join(app, "dist", "main.js")), "dist/main.js compiled");
  });

  after(async () => {
    if (app) await rm(app, { recursive: true, force: true });
  });

  it("runs the entrypoint: `node dist/main.js --help` prints the operator's help", async () => {
    const r = await runNode(["dist/main.js", "--help"], app);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, HELP);
  });

  it("rejects a bad flag with exit code 2 and a message, not a stack trace", async () => {
    const r = await runNode(["dist/main.js", "--no-such-flag"], app);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^aviary: .*no-such-flag/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it("ships the CLI too: `node dist/cli/main.js --help`", async () => {
    const r = await runNode(["dist/cli/main.js", "--help"], app);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage/);
  });

  it("imports only Node built-ins, production dependencies and files that exist in the bundle", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    const files = await jsFiles(join(app, "dist"));
    assert.ok(files.length > 20);
    for (const file of files) {
      const text = await readFile(file, "utf8");
      const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)|(?:^|\n)\s*import\s+"([^"]+)"/g)]
        .map((m) => m[1] ?? m[2] ?? m[3]!);
      for (const s of specifiers) {
        const where = `${file.slice(app.length + 1)}: "${s}"`;
        if (s.startsWith(".")) {
          if (!s.endsWith(".js")) problems.push(`${where} is not rewritten to .js`);
          else if (!existsSync(resolve(dirname(file), s))) problems.push(`${where} does not exist in the bundle`);
        } else if (s.startsWith("node:")) {
          if (!builtins.has(s.slice(5))) problems.push(`${where} is not a Node built-in`);
        } else {
          const name = s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!;
          if (!(name in pkg.dependencies)) problems.push(`${where} is not a production dependency`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it("contains the webhook manifest the local runner reads at run time", async () => {
    const local = (await import(pathToFileURL(join(app, "dist", "webhook", "local.js")).href)) as { WEBHOOKS_MANIFEST: URL };
    assert.ok(existsSync(fileURLToPath(local.WEBHOOKS_MANIFEST)), `${fileURLToPath(local.WEBHOOKS_MANIFEST)} is in the image`);
    assert.ok(fileURLToPath(local.WEBHOOKS_MANIFEST).startsWith(app));
  });

  it("starts against the cluster and answers /healthz, /readyz and /metrics, then stops on SIGTERM", async () => {
    requireKubeconfig();
    const port = await freePort();
    // Controller only, in a namespace with nothing in it: no webhook registration, no cluster writes.
    const child = spawn(process.execPath, ["dist/main.js", "--no-webhook", "--namespace", "aviary-bundle-smoke", "--metrics-address", `127.0.0.1:${port}`], {
      cwd: app,
      env: { ...process.env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    try {
      const get = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
        return { status: res.status, body: await res.text() };
      };
      const deadline = Date.now() + 60_000;
      let ready = false;
      while (!ready && Date.now() < deadline && child.exitCode === null) {
        ready = await get("/readyz").then((r) => r.status === 200, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 250));
      }
      assert.ok(ready, `never ready; output:\n${output}`);
      assert.equal((await get("/healthz")).status, 200);
      const metrics = await get("/metrics");
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /^aviary_process_process_resident_memory_bytes \d+/m);
      child.kill("SIGTERM");
      assert.equal(await exited, 0, `exit code after SIGTERM; output:\n${output}`);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
