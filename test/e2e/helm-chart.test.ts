/**
 * aviary's own Helm chart (manifests/chart), rendered and installed by real Helm: the values
 * with Flagger's names become aviary's flags (and aviary's parser accepts them), what Flagger's
 * chart has and aviary cannot honour fails the render, the rendered objects pass the API
 * server's validation, and `helm install` creates the operator's objects. The install keeps
 * to its namespace: the CRDs and webhook configurations of a shared cluster are left alone.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config.ts";
import { kubectl, kubectlJson, requireKubeconfig, tempNamespace } from "../support/kubectl.ts";

const exec = promisify(execFile);
const CHART = "manifests/chart";

interface Obj { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown }
interface DeploymentSpec { spec: { replicas: number; template: { spec: { containers: { args: string[]; image: string }[] } } } }

const parseDocs = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
const argsOf = (d: Obj): string[] => (d as unknown as DeploymentSpec).spec.template.spec.containers[0]!.args;

describe("e2e: aviary's Helm chart", function () {
  let helmBin: string;
  const helm = async (...args: string[]) => exec(helmBin, [...args, "--kubeconfig", requireKubeconfig()], { timeout: 120_000 });
  /** Runs helm expecting failure; returns its stderr. */
  const helmFails = async (...args: string[]): Promise<string> => {
    try {
      await helm(...args);
    } catch (err) {
      return String((err as { stderr?: string }).stderr ?? err);
    }
    throw new Error(`helm ${args.join(" ")} succeeded`);
  };

  before(async function () {
    this.timeout(900_000); // the first run on a machine builds helm from its Go module
    helmBin = (await exec("bash", ["hack/build-helm.sh"], { timeout: 900_000 })).stdout.trim();
  });

  it("lints clean", async () => {
    const { stdout } = await helm("lint", CHART);
    assert.match(stdout, /0 chart\(s\) failed/);
  });

  it("renders Flagger's values as aviary's flags, which aviary's own parser accepts", async () => {
    const { stdout } = await helm("template", "canaries", CHART, "-n", "delivery",
      "--set", "meshProvider=istio", "--set", "metricsServer=http://prometheus.monitoring:9090", "--set", "logLevel=debug",
      "--set", "leaderElection.replicaCount=3", "--set", "threadiness=8", "--set", "namespace=shop", "--set", "podMonitor.enabled=true",
      "--set", "image.repository=registry.example/aviary", "--set", "image.tag=1.2.3");
    const objects = parseDocs(stdout);
    const deployment = objects.find((o) => o.kind === "Deployment")!;
    assert.equal(deployment.metadata.namespace, "delivery");
    assert.equal((deployment as unknown as DeploymentSpec).spec.replicas, 3);
    assert.equal((deployment as unknown as DeploymentSpec).spec.template.spec.containers[0]!.image, "registry.example/aviary:1.2.3");
    const config = parseConfig(argsOf(deployment), {}, "pod", 1);
    assert.notEqual(config, "help");
    if (config === "help") return;
    assert.equal(config.meshProvider, "istio");
    assert.equal(config.metricsServer, "http://prometheus.monitoring:9090");
    assert.equal(config.logLevel, "debug");
    assert.equal(config.workers, 8);
    assert.equal(config.namespace, "shop");
    assert.equal(config.leaderElect, true);
    assert.equal(config.leaseNamespace, "delivery");
    assert.equal(config.certSecret, "delivery/canaries-aviary-webhook-cert");
    assert.deepEqual(config.webhookDnsNames, ["canaries-aviary-webhook.delivery.svc"]);
    assert.deepEqual(config.selfUsers, ["system:serviceaccount:delivery:canaries-aviary"]);
    assert.ok(objects.some((o) => o.kind === "PodMonitor"), "podMonitor.enabled renders a PodMonitor");
    assert.ok(objects.some((o) => o.kind === "PodDisruptionBudget"), "several replicas get a PodDisruptionBudget");
    assert.deepEqual(objects.filter((o) => o.kind === "CustomResourceDefinition").map((o) => o.metadata.name).sort(),
      ["alertproviders.aviary.dev", "canaries.aviary.dev", "metrictemplates.aviary.dev"]);
  });

  it("renders examples/helm/values-istio.yaml, a Flagger-style values file, into an Istio default", async () => {
    const { stdout } = await helm("template", "aviary", CHART, "-n", "aviary-system", "-f", "examples/helm/values-istio.yaml");
    const config = parseConfig(argsOf(parseDocs(stdout).find((o) => o.kind === "Deployment")!), {}, "pod", 1);
    assert.ok(config !== "help");
    assert.equal(config.meshProvider, "istio");
    assert.equal(config.metricsServer, "http://prometheus.istio-system:9090");
  });

  it("points the same webhooks as manifests/webhooks.yaml at the release's Service", async () => {
    const { stdout } = await helm("template", "canaries", CHART, "-n", "delivery");
    const rendered = parseDocs(stdout).filter((o) => o.kind.endsWith("WebhookConfiguration"));
    const text = readFileSync("manifests/webhooks.yaml", "utf8")
      .replaceAll("name: aviary-webhook", "name: canaries-aviary-webhook")
      .replaceAll("serviceaccount:aviary-system:aviary'", "serviceaccount:delivery:canaries-aviary'")
      .replaceAll("aviary-system", "delivery");
    const expected = parseDocs(text);
    assert.equal(rendered.length, 2);
    for (const [i, r] of rendered.entries()) assert.deepEqual(r.webhooks, expected[i]?.webhooks, r.kind);
  });

  it("refuses Flagger values aviary cannot honour, saying what to do instead", async () => {
    assert.match(await helmFails("template", "x", CHART, "--set", "slack.url=https://hooks.example.test/T0"), /slack\.url: aviary has no controller-wide notifier; create an AlertProvider/);
    assert.match(await helmFails("template", "x", CHART, "--set", "msteams.url=https://teams.example.test/w"), /msteams\.url: aviary has no controller-wide notifier/);
    assert.match(await helmFails("template", "x", CHART, "--set", "meshProvider=osm"), /meshProvider: aviary does not serve provider osm/);
  });

  it("renders shards as --shards with the Role rule sharding needs, and refuses a bad value naming it", async () => {
    const { stdout } = await helm("template", "canaries", CHART, "-n", "delivery", "--set", "shards=4", "--set", "leaderElection.replicaCount=3");
    const objects = parseDocs(stdout);
    const config = parseConfig(argsOf(objects.find((o) => o.kind === "Deployment")!), {}, "pod", 1);
    assert.ok(config !== "help");
    assert.equal(config.shards, 4);
    assert.equal(config.leaseName, "canaries-aviary-leader");
    const role = objects.find((o) => o.kind === "Role") as unknown as { rules: { resources: string[]; verbs: string[]; resourceNames?: string[] }[] };
    assert.ok(role.rules.some((r) => r.resources.includes("leases") && r.verbs.includes("list") && r.verbs.includes("delete") && !r.resourceNames));
    const plain = parseDocs((await helm("template", "canaries", CHART, "-n", "delivery")).stdout);
    const plainConfig = parseConfig(argsOf(plain.find((o) => o.kind === "Deployment")!), {}, "pod", 1);
    assert.ok(plainConfig !== "help");
    assert.equal(plainConfig.shards, 1);
    assert.ok(!(plain.find((o) => o.kind === "Role") as unknown as { rules: { verbs: string[] }[] }).rules.some((r) => r.verbs.includes("list")));
    for (const bad of ["0", "abc", "1.5", "257"]) {
      assert.match(await helmFails("template", "x", CHART, "--set", `shards=${bad}`), new RegExp(`shards: must be an integer from 1 to 256, got ${bad.replace(".", "\\.")}`));
    }
    assert.match(await helmFails("template", "x", CHART, "--set", "shards=3", "--set", "leaderElection.enabled=false"), /shards: more than 1 needs leaderElection\.enabled/);
  });

  describe("install on the API server", () => {
    let ns: Awaited<ReturnType<typeof tempNamespace>>;
    before(async () => {
      ns = await tempNamespace("aviary-chart");
    });
    after(async () => {
      await helm("uninstall", ns.name, "-n", ns.name).catch(() => undefined);
      await ns?.remove();
    });

    it("renders objects the API server accepts (server-side dry run)", async () => {
      const { stdout } = await helm("template", ns.name, CHART, "-n", ns.name, "--set", "meshProvider=linkerd");
      const r = await kubectl(["apply", "--dry-run=server", "-n", ns.name, "-f", "-"], stdout);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployment\.apps\/[\w-]+ created \(server dry run\)/);
      assert.match(r.stdout, /customresourcedefinition\.apiextensions\.k8s\.io\/canaries\.aviary\.dev (configured|created|unchanged) \(server dry run\)/);
    });

    it("`helm install` creates the Deployment with the flags the values ask for, its account and roles", async () => {
      // The cluster's CRDs and its webhook configurations belong to the other tests.
      await helm("install", ns.name, CHART, "-n", ns.name, "--set", "crd.create=false", "--set", "webhook.enabled=false",
        "--set", "meshProvider=gatewayapi", "--set", "metricsServer=http://prometheus.monitoring:9090", "--set", "leaderElection.replicaCount=1");
      // The release name already says aviary, so the objects take it as it is.
      const name = ns.name;
      const deployment = await kubectlJson<Obj>(["get", "deployment", name, "-n", ns.name]);
      assert.equal((deployment as unknown as DeploymentSpec).spec.replicas, 1);
      const args = argsOf(deployment);
      for (const flag of ["--mesh-provider=gatewayapi", "--metrics-server=http://prometheus.monitoring:9090", "--leader-elect", "--no-webhook"]) {
        assert.ok(args.includes(flag), `${flag} in ${args.join(" ")}`);
      }
      for (const [kind, namespaced] of [["serviceaccount", true], ["role", true], ["rolebinding", true], ["service", false], ["clusterrole", false], ["clusterrolebinding", false]] as const) {
        const objectName = kind === "service" ? `${name}-metrics` : name;
        const got = await kubectl(["get", kind, objectName, ...(namespaced || kind === "service" ? ["-n", ns.name] : [])]);
        assert.equal(got.code, 0, `${kind} ${objectName}: ${got.stderr}`);
      }
      assert.equal((await kubectl(["get", "validatingwebhookconfiguration", "-l", `app.kubernetes.io/instance=${ns.name}`, "-o", "name"])).stdout.trim(), "");
    });
  });
});
