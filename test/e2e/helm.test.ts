/**
 * Real Helm against aviary: an ordinary chart (a Deployment with `replicas: 3` and an image
 * value) is installed and upgraded the way users do it, with aviary (controller and webhook in
 * one process, registered by URL) managing it through one Canary. Helm's three-way merge
 * re-sends `replicas: 3` on every upgrade; the replica guard keeps the idle target at zero.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startAviary, type AviaryProcess } from "../support/aviary.ts";
import { holdsFor, kubectl, kubectlOk, requireKubeconfig, tempNamespace } from "../support/kubectl.ts";
import { apply, canary, events, getCanary, getDeployment, image, waitForPhase } from "../support/canary-fixtures.ts";

const exec = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const CHART = {
  "Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.0.0\"\n",
  "values.yaml": "replicaCount: 3\nimage:\n  repository: example.com/web\n  tag: \"1.0.0\"\n",
  "templates/deployment.yaml": [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: {{ .Release.Name }}",
    "  labels: {app: {{ .Release.Name }}}",
    "spec:",
    "  replicas: {{ .Values.replicaCount }}",
    "  selector:",
    "    matchLabels: {app: {{ .Release.Name }}}",
    "  template:",
    "    metadata:",
    "      labels: {app: {{ .Release.Name }}}",
    "    spec:",
    "      containers:",
    "        - name: app",
    "          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"",
    "          ports: [{name: http, containerPort: 8080}]",
    "",
  ].join("\n"),
};

describe("e2e: Helm install and upgrades under aviary", function () {
  let helmBin: string;
  let chartDir: string;
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let aviary: AviaryProcess;
  let certDir: string;
  // Helm acts as a user of its own: aviary runs with the test's credentials, and aviary's own
  // requests pass its replica guard.
  const helm = async (...args: string[]) =>
    (await exec(helmBin, [...args, "--kubeconfig", requireKubeconfig(), "-n", ns.name, "--kube-as-user", "ci-bot", "--kube-as-group", "system:masters"], { timeout: 120_000 })).stdout;

  before(async function () {
    this.timeout(600_000); // the first run on a machine builds helm from its Go module
    helmBin = (await exec("bash", ["hack/build-helm.sh"], { timeout: 600_000 })).stdout.trim();
    chartDir = await mkdtemp(join(tmpdir(), "aviary-chart-"));
    await mkdir(join(chartDir, "templates"));
    for (const [file, text] of Object.entries(CHART)) await writeFile(join(chartDir, file), text);
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace("aviary-e2e");
    certDir = await mkdtemp(join(tmpdir(), "aviary-certs-"));
    const port = await freePort();
    aviary = startAviary(["--namespace", ns.name, "--webhook-host", "127.0.0.1", "--webhook-port", String(port),
      "--webhook-url", `https://127.0.0.1:${port}`, "--cert-dir", certDir]);
    await aviary.waitForLog(/admission webhook serving/, 30_000);
  });

  after(async () => {
    await aviary?.stop();
    await kubectl(["delete", "mutatingwebhookconfiguration", "aviary", "--ignore-not-found"]);
    await kubectl(["delete", "validatingwebhookconfiguration", "aviary", "--ignore-not-found"]);
    await ns?.remove();
    if (chartDir) await rm(chartDir, { recursive: true, force: true });
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  it("installs the chart, and a Canary takes it over: primary at 3 replicas, target at 0", async () => {
    await helm("install", "web", chartDir, "--wait", "--timeout", "90s");
    await apply(ns.name, canary("web", { provider: "kubernetes", analysis: { interval: "1s", iterations: 2, stepWeight: undefined, maxWeight: undefined } }));
    await waitForPhase(ns.name, "web", "Initialized", 60_000);
    assert.equal((await getDeployment(ns.name, "web-primary")).spec.replicas, 3);
    assert.equal((await getDeployment(ns.name, "web")).spec.replicas, 0);
  });

  it("runs `helm upgrade --set image.tag=…` as a canary and promotes it; the idle target stays at 0", async () => {
    await helm("upgrade", "web", chartDir, "--set", "image.tag=2.0.0");
    const right = await getDeployment(ns.name, "web");
    // The run scales the target (now the canary) itself; what helm asked for is recorded, not applied.
    assert.equal(right.metadata.annotations?.["aviary.dev/desired-replicas"], "3");
    assert.equal(right.metadata.annotations?.["aviary.dev/changed-by"], "ci-bot");
    await waitForPhase(ns.name, "web", "Succeeded", 90_000);
    const primary = await getDeployment(ns.name, "web-primary");
    assert.equal(image(primary), "example.com/web:2.0.0");
    assert.equal(primary.spec.replicas, 3, "the primary serves the chart's 3 replicas");
    assert.equal((await getDeployment(ns.name, "web")).spec.replicas, 0);
  });

  it("starts no run for a `helm upgrade` that changes nothing, and keeps the idle target at 0", async () => {
    const runs = async () => (await events(ns.name, "web")).filter((e) => e.reason === "NewRevision").reduce((n, e) => n + (e.count ?? 1), 0);
    const before = await runs();
    await helm("upgrade", "web", chartDir, "--set", "image.tag=2.0.0");
    // A window of several analysis intervals in which a run would start and scale the canary up.
    await holdsFor("no run and an idle target", async () => {
      const [n, target, c] = await Promise.all([runs(), getDeployment(ns.name, "web"), getCanary(ns.name, "web")]);
      if (n !== before) return `${n - before} NewRevision events`;
      if ((target.spec.replicas ?? 0) !== 0) return `the target scaled to ${target.spec.replicas}`;
      if (c.status?.phase !== "Succeeded") return `phase ${c.status?.phase}`;
      return undefined;
    }, 3000);
  });
});
