/**
 * The Dockerfile's structure, checked without a Docker engine: stages, base images, what
 * each stage installs, the non-root user, the entrypoint, and that every file it copies from
 * the build context exists and is not excluded by .dockerignore. The integration tier builds
 * the production bundle and runs it from the layout the runtime stage assembles.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDockerfile } from "./dockerfile.ts";
import type { Stage } from "./dockerfile.ts";
import { loadManifests, only, ROOT } from "./manifests.ts";
import { parse } from "yaml";
import { imageEnv, imageNodeFlags } from "../../../hack/image-runtime.ts";

const DOCKERFILE = readFileSync(join(ROOT, "Dockerfile"), "utf8");
const stages = parseDockerfile(DOCKERFILE);
const runtime = stages.at(-1)!;
const stage = (name: string) => {
  const s = stages.find((x) => x.name === name);
  assert.ok(s, `no stage ${name}`);
  return s;
};
const runs = (s: Stage) => s.instructions.filter((i) => i.op === "RUN").map((i) => i.args);
const copiesFrom = (s: Stage, from: string) => s.instructions.filter((i) => i.op === "COPY" && i.args.includes(`--from=${from} `));

describe("Dockerfile", () => {
  it("is multi-stage on Node 24 slim images", () => {
    assert.ok(stages.length >= 2, "multi-stage");
    for (const s of stages) assert.match(s.image, /^(docker\.io\/(library\/)?)?node:24(\.\d+){0,2}-(bookworm-)?slim(@sha256:[0-9a-f]{64})?$/, `stage ${s.name}`);
  });

  it("builds with every dependency: npm ci from the lockfile, then npm run build", () => {
    const build = stage("build");
    const copies = build.instructions.filter((i) => i.op === "COPY").map((i) => i.args);
    assert.ok(copies.some((c) => c.includes("package-lock.json")), "the lockfile is copied");
    const commands = runs(build);
    const ci = commands.findIndex((c) => /\bnpm ci\b/.test(c) && !c.includes("--omit=dev"));
    const compile = commands.findIndex((c) => /\bnpm run build\b/.test(c));
    assert.ok(ci >= 0 && compile > ci, `npm ci then npm run build, got ${JSON.stringify(commands)}`);
  });

  it("ships production dependencies only, installed with npm ci --omit=dev", () => {
    const producer = stages.find((s) => runs(s).some((c) => /\bnpm ci\b.*--omit=dev/.test(c)));
    assert.ok(producer && producer !== runtime, "a stage runs npm ci --omit=dev");
    assert.ok(copiesFrom(runtime, producer.name).some((i) => /node_modules/.test(i.args)), "the runtime gets its node_modules");
    assert.ok(!copiesFrom(runtime, "build").some((i) => /node_modules/.test(i.args)), "never the build stage's dev dependencies");
    assert.ok(copiesFrom(runtime, "build").some((i) => /\bdist\b/.test(i.args)), "the compiled dist/ comes from the build stage");
  });

  it("runs the operator as a non-root user with a fixed entrypoint, and installs nothing in the runtime stage", () => {
    const users = runtime.instructions.filter((i) => i.op === "USER");
    assert.equal(users.length, 1, "one USER in the runtime stage");
    const user = users[0]!.args.split(":")[0]!;
    assert.ok(user !== "root" && user !== "0" && user !== "", `USER ${user}`);
    assert.ok(/^\d+$/.test(user) || user === "node", "a numeric uid (runAsNonRoot can verify it) or node");
    assert.deepEqual(runs(runtime), [], "the runtime stage runs no commands");
    const entrypoint = runtime.instructions.filter((i) => i.op === "ENTRYPOINT");
    assert.equal(entrypoint.length, 1);
    assert.deepEqual(JSON.parse(entrypoint[0]!.args), ["node", "--max-semi-space-size=2", "dist/main.js"]);
    // The scale benchmark and the demo run aviary with the image's flags and environment.
    assert.deepEqual(imageNodeFlags(DOCKERFILE), ["--max-semi-space-size=2"]);
    assert.deepEqual(imageEnv(DOCKERFILE), { NODE_ENV: "production", MALLOC_ARENA_MAX: "2", NODE_OPTIONS: "--max-old-space-size=384" });
    assert.ok(runtime.instructions.findIndex((i) => i.op === "USER") < runtime.instructions.findIndex((i) => i.op === "ENTRYPOINT"));
  });

  it("caps the heap below the memory limit of the Deployment and of the chart's default values", () => {
    const heapMiB = Number(/--max-old-space-size=(\d+)/.exec(imageEnv(DOCKERFILE).NODE_OPTIONS ?? "")?.[1]);
    assert.ok(heapMiB > 0, "NODE_OPTIONS sets --max-old-space-size");
    const mebibytes = (q: string) => {
      const m = /^(\d+)(Mi|Gi)$/.exec(q);
      assert.ok(m, `a memory limit in Mi or Gi: ${q}`);
      return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
    };
    type Limits = { resources: { limits: { memory: string } } };
    const container = only<{ spec: { template: { spec: { containers: Limits[] } } } }>(loadManifests(), "Deployment", "aviary").spec.template.spec.containers[0]!;
    const values = parse(readFileSync(join(ROOT, "manifests/chart/values.yaml"), "utf8")) as Limits;
    for (const [where, limit] of [["manifests/deployment.yaml", container.resources.limits.memory], ["the chart's values", values.resources.limits.memory]] as const) {
      // Code, native buffers and the node binary need room beside the heap.
      assert.ok(mebibytes(limit) - heapMiB >= 96, `${where}: a ${limit} limit leaves too little beside a ${heapMiB} MiB heap`);
    }
  });

  it("runs as the uid the Deployment's securityContext names, and exposes the ports it uses", () => {
    type PodSpec = { securityContext: { runAsUser: number }; containers: Array<{ ports: Array<{ containerPort: number }> }> };
    const pod = only<{ spec: { template: { spec: PodSpec } } }>(loadManifests(), "Deployment", "aviary").spec.template.spec;
    const user = runtime.instructions.find((i) => i.op === "USER")!.args.split(":")[0];
    assert.equal(user, String(pod.securityContext.runAsUser));
    const exposed = runtime.instructions.filter((i) => i.op === "EXPOSE").flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.split("/")[0])).sort();
    assert.deepEqual(exposed, pod.containers[0]!.ports.map((p) => p.containerPort).sort());
  });

  it("copies from the context only files that exist and .dockerignore lets through", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
    const excluded = (path: string): boolean => {
      let out = false;
      for (const pattern of ignore) {
        const negated = pattern.startsWith("!");
        const p = negated ? pattern.slice(1) : pattern;
        if (path === p || path.startsWith(`${p}/`)) out = !negated;
      }
      return out;
    };
    for (const dir of ["node_modules", "dist", ".git", "certs"]) assert.ok(excluded(dir), `${dir} stays out of the context`);
    const sources = stages.flatMap((s) =>
      s.instructions
        .filter((i) => i.op === "COPY" && !i.args.includes("--from="))
        .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith("--")).slice(0, -1)),
    );
    assert.ok(sources.length > 0);
    for (const source of sources) {
      assert.ok(existsSync(join(ROOT, source)), `${source} exists`);
      assert.ok(!excluded(source), `${source} is not excluded by .dockerignore`);
    }
  });
});
