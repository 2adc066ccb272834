/**
 * Lifecycle beyond the happy path, against the real API server: deletions (namespace,
 * referenced Secret) are not revisions, and generated objects deleted or edited by hand are
 * restored at once from their own watch events. aviary runs as its own process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { eventually, holdsFor, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { startHookServer } from "../../support/hooks.ts";
import { apply, canary, deployment, events, getCanary, getDeployment, image, routeWeights, waitForPhase } from "../../support/canary-fixtures.ts";
import type { CanaryObject, DeploymentObject } from "../../support/canary-fixtures.ts";
import type { HookServer } from "../../support/hooks.ts";
import { hashConfigData } from "../../../src/ground/hash.ts";
import { hashKeysOf } from "../../../src/kube/hash-key.ts";
import type { KubeObject } from "../../../src/kube/types.ts";

/** A Deployment whose container reads every key of a Secret (a required reference). */
function deploymentWithSecret(name: string, image: string, secret: string): Record<string, unknown> {
  return {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image, ports: [{ name: "http", containerPort: 9898 }], envFrom: [{ secretRef: { name: secret } }] }] },
      },
    },
  };
}

/** Log lines that would mean a release, a rollback or a page. */
const RELEASE_LINE = /"reason":"(NewRevision|RolledBack|Promoting|Promoted)"|rolled back/;

/** The primary's snapshot, as the ControllerRevision aviary keeps. */
const snapshot = (ns: string, name: string) => kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(["get", "controllerrevisions.apps", name, "-n", ns]);

const secretRef = (c: CanaryObject) => c.status?.conditions?.find((x) => x.type === "ConfigsAvailable");

/**
 * Every version of an object a watch delivers after `sinceRv`, as `resourceVersion weights`
 * lines, so a write that lived for a few milliseconds is still seen.
 */
function watchRoute(ns: string, name: string): { lines: string[]; stop: () => void } {
  const child = spawn("kubectl", ["get", "httproutes.gateway.networking.k8s.io", name, "-n", ns, "--watch", "--output-watch-events", "-o",
    "jsonpath={.object.metadata.resourceVersion} {.object.spec.rules[0].backendRefs[*].weight}{\"\\n\"}"], { env: process.env });
  const lines: string[] = [];
  let buf = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buf += chunk.toString("utf8");
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    lines.push(...parts.filter((p) => p.trim() !== ""));
  });
  return { lines, stop: () => child.kill("SIGTERM") };
}

/**
 * A ValidatingAdmissionPolicy (and its binding) that denies `operations` on `resources` in one
 * namespace, except what `allowed` (a CEL expression over `object`/`oldObject`) lets through.
 * Returns once the API server enforces it (checked with `probe`, a server-side dry run that
 * must be denied), with a function that lifts it.
 */
async function denyInNamespace(ns: string, label: string, what: { groups: string[]; resources: string[]; operations: string[]; allowed?: string; why: string }, probe: string[]): Promise<() => Promise<void>> {
  const name = `aviary-it-${label}-${ns}`;
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: { resourceRules: [{ apiGroups: what.groups, apiVersions: ["*"], operations: what.operations, resources: what.resources }] },
      validations: [{ expression: what.allowed ?? "false", message: what.why }],
    },
  };
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicyBinding", metadata: { name },
    spec: { policyName: name, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } } },
  };
  await kubectlOk(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: [policy, binding] }));
  await eventually(`the policy ${name} to be enforced`, async () => {
    const r = await kubectl([...probe, "--dry-run=server"]);
    return r.code !== 0 && r.stderr.includes(what.why) ? true : undefined;
  }, 30_000, 200);
  return async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding", name, "--ignore-not-found"]);
    await kubectl(["delete", "validatingadmissionpolicy", name, "--ignore-not-found"]);
  };
}

/** A JSON log line's level and message. */
const parsed = (line: string): { level?: string; msg?: string } => {
  try {
    return JSON.parse(line) as { level?: string; msg?: string };
  } catch {
    return {};
  }
};

describe("canary engine: deletions are not revisions", function () {
  before(() => kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]));

  it("deleting a namespace whose target goes before its Canary starts no release, alerts no one and logs at info", async () => {
    const ns = await tempNamespace("aviary-nsdel");
    const receiver = await startHookServer();
    const aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
    const lifts: (() => Promise<void>)[] = [];
    try {
      await apply(ns.name, { apiVersion: "aviary.dev/v1beta1", kind: "AlertProvider", metadata: { name: "team" }, spec: { type: "webhook", address: receiver.url("/alerts") } });
      await kubectlOk(["create", "secret", "generic", "podinfo-secret", "-n", ns.name, "--from-literal=TOKEN=abc"]);
      await apply(ns.name, deploymentWithSecret("podinfo", "podinfo:1", "podinfo-secret"));
      await apply(ns.name, canary("podinfo", { analysis: { stepWeight: 50, maxWeight: 50, alerts: [{ name: "team", severity: "info", providerRef: { name: "team" } }] } }));
      await waitForPhase(ns.name, "podinfo", "Initialized");
      // The receiver works: a real release is alerted.
      await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:2", "-n", ns.name]);
      await waitForPhase(ns.name, "podinfo", "Succeeded");
      const reasons = () => receiver.calls.filter((c) => c.path === "/alerts").map((c) => String((c.body as { reason?: string }).reason));
      await eventually("the release's alerts", async () => (reasons().includes("NewRevision") && reasons().includes("Promoted") ? true : undefined), 15_000);
      receiver.calls.length = 0;

      // The worst order, every time: the namespace controller may delete the target's Secret
      // first (nothing else), then the target and everything else but the Canary, then the
      // Canary: each step is held until the one before is done.
      const holdCanary = await denyInNamespace(ns.name, "hold-canary", { groups: ["aviary.dev"], resources: ["canaries"], operations: ["DELETE"], why: "the Canary is held by the test" },
        ["delete", "canaries.aviary.dev", "podinfo", "-n", ns.name]);
      lifts.push(holdCanary);
      const holdAllButSecret = await denyInNamespace(ns.name, "hold-all", {
        groups: ["*"], resources: ["*"], operations: ["DELETE"], why: "held by the test until the Secret is gone",
        allowed: "oldObject.kind == 'Namespace' || (oldObject.kind == 'Secret' && oldObject.metadata.name == 'podinfo-secret')",
      }, ["delete", "deployment", "podinfo", "-n", ns.name]);
      lifts.push(holdAllButSecret);
      const from = aviary.logs.length;
      const exists = async (...args: string[]) => (await kubectl(["get", ...args, "-n", ns.name])).code === 0;
      const released = () => aviary.logs.slice(from).filter((l) => RELEASE_LINE.test(l));
      const nothingHappens = () => holdsFor("no release, rollback or alert", async () => {
        const bad = released();
        return bad.length > 0 ? bad.join("\n") : reasons().length > 0 ? `alerts: ${reasons().join(", ")}` : undefined;
      }, 4_000);
      await kubectlOk(["delete", "namespace", ns.name, "--wait=false"]);
      await eventually("the Secret deleted, the target still there", async () => (!(await exists("secret", "podinfo-secret")) && (await exists("deployment", "podinfo")) ? true : undefined), 60_000, 200);
      // aviary has seen it: the Canary says the namespace is going, or a release line gives it away.
      await eventually("aviary to react to the teardown", async () => ((await getCanary(ns.name, "podinfo")).status?.phase === "Terminating" || released().length > 0 ? true : undefined), 20_000, 100);
      await nothingHappens(); // several analysis intervals (1 s): the Secret is gone, the target is not
      await holdAllButSecret();
      await eventually("the target deleted, the Canary still there", async () => {
        const held = await getCanary(ns.name, "podinfo");
        return !(await exists("deployment", "podinfo")) && held.metadata.deletionTimestamp === undefined ? true : undefined;
      }, 60_000, 200);
      await nothingHappens(); // the target is gone, the Canary is not
      await holdCanary();
      await eventually(`namespace ${ns.name} to be gone`, async () => ((await kubectl(["get", "namespace", ns.name])).code !== 0 ? true : undefined), 120_000, 500);

      const lines = aviary.logs.slice(from).filter((l) => l.includes(`"namespace":"${ns.name}"`));
      assert.deepEqual(lines.filter((l) => RELEASE_LINE.test(l)), [], "no release or rollback during the teardown");
      assert.deepEqual(reasons(), [], "no alert during the teardown");
      assert.deepEqual(aviary.logs.slice(from).filter((l) => parsed(l).level === "error"), [], "no error-level line");
      const teardown = lines.map(parsed).find((l) => /→ Terminating/.test(l.msg ?? ""));
      assert.equal(teardown?.level, "info", "the teardown is told at info level");
    } finally {
      for (const lift of lifts) await lift();
      await aviary.stop();
      await receiver.close();
      await ns.remove();
    }
  });

  describe("a referenced Secret and generated objects", function () {
    let ns: Awaited<ReturnType<typeof tempNamespace>>;
    let aviary: AviaryProcess;
    let hooks: HookServer;
    // aviary's own namespace is the test's: the hash key Secret is made there.
    const args = () => ["--no-webhook", "--namespace", ns.name, "--lease-namespace", ns.name];
    before(async () => {
      ns = await tempNamespace("aviary-restore");
      hooks = await startHookServer();
      aviary = startAviary(args());
      await kubectlOk(["create", "secret", "generic", "podinfo-secret", "-n", ns.name, "--from-literal=TOKEN=abc"]);
      await apply(ns.name, deploymentWithSecret("podinfo", "podinfo:1", "podinfo-secret"));
      await apply(ns.name, canary("podinfo", { analysis: { stepWeight: 50, maxWeight: 50 } }));
      await waitForPhase(ns.name, "podinfo", "Initialized");
    });
    after(async () => {
      await aviary?.stop();
      await hooks?.close();
      await ns?.remove();
    });

    it("status.trackedConfigs reveals nothing a reader of the Canary can recompute: an HMAC keyed by aviary's own Secret", async () => {
      const c = await getCanary(ns.name, "podinfo");
      const recorded = c.status?.trackedConfigs?.["Secret/podinfo-secret"] ?? "";
      const [, id, hmac] = /^([0-9a-f]{8}):([0-9a-f]+)$/.exec(recorded) ?? [];
      assert.ok(id !== undefined && hmac !== undefined, `<key id>:<hmac>, got ${JSON.stringify(c.status?.trackedConfigs)}`);
      // What someone who can read the Canary computes from a guess that happens to be right.
      const content = { data: (await kubectlJson<{ data: Record<string, string> }>(["get", "secret", "podinfo-secret", "-n", ns.name])).data };
      for (const key of [c.metadata.uid ?? "", `${ns.name}/podinfo`]) assert.notEqual(hashConfigData(content, { key }), hmac, `recomputable with ${key}`);
      assert.notEqual(hashConfigData(content), hmac, "a plain hash");
      // Only the key in aviary's Secret reproduces it: the recomputation above is the right one.
      const keys = hashKeysOf(await kubectlJson<KubeObject>(["get", "secret", "aviary-config-hash-key", "-n", ns.name]));
      assert.equal(id, keys?.current.id);
      assert.equal(hashConfigData(content, { key: keys?.current.key ?? "" }), hmac);
    });

    it("a rotated hash key re-keys the status on restart, without a run", async () => {
      const before = await getCanary(ns.name, "podinfo");
      const stored = await kubectlJson<{ data: Record<string, string> }>(["get", "secret", "aviary-config-hash-key", "-n", ns.name]);
      await aviary.stop();
      const rotated = { key: randomBytes(32).toString("base64"), previousKey: stored.data.key ?? "" };
      await kubectlOk(["patch", "secret", "aviary-config-hash-key", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ data: rotated })]);
      aviary = startAviary(args());
      const newId = hashKeysOf({ apiVersion: "v1", kind: "Secret", metadata: { name: "k" }, data: rotated })?.current.id ?? "";
      const after = await eventually("the status re-keyed", async () => {
        const c = await getCanary(ns.name, "podinfo");
        return c.status?.trackedConfigs?.["Secret/podinfo-secret"]?.startsWith(`${newId}:`) === true ? c : undefined;
      }, 30_000, 200);
      assert.equal(after.status?.phase, "Initialized");
      assert.notEqual(after.status?.lastPromotedSpec, before.status?.lastPromotedSpec, "the recorded revision moved to the new key");
      assert.equal(after.status?.lastAppliedSpec, after.status?.lastPromotedSpec);
      await holdsFor("no run after the rotation", async () => {
        const reasons = (await events(ns.name, "podinfo")).map((e) => e.reason);
        return reasons.includes("NewRevision") ? reasons.join(", ") : undefined;
      }, 3_000);
    });

    it("deleting the Secret starts no run and names it in a condition; a new Secret content is released with its -primary copy", async () => {
      const before = await getCanary(ns.name, "podinfo");
      await kubectlOk(["delete", "secret", "podinfo-secret", "-n", ns.name]);
      const held = await eventually("the ConfigsAvailable condition", async () => {
        const c = await getCanary(ns.name, "podinfo");
        return secretRef(c)?.status === "False" ? c : undefined;
      }, 10_000, 100);
      assert.match(secretRef(held)!.message!, /Secret\/podinfo-secret referenced by Deployment podinfo does not exist/);
      // Watched over several analysis intervals (1 s): no run starts.
      await new Promise((r) => setTimeout(r, 4_000));
      const after = await getCanary(ns.name, "podinfo");
      assert.equal(after.status?.phase, "Initialized");
      assert.equal(after.status?.lastAppliedSpec, before.status?.lastAppliedSpec);
      assert.ok(!(await events(ns.name, "podinfo")).some((e) => e.reason === "NewRevision"), "no NewRevision event");

      await kubectlOk(["create", "secret", "generic", "podinfo-secret", "-n", ns.name, "--from-literal=TOKEN=xyz"]);
      const done = await eventually("the new Secret content promoted", async () => {
        const c = await getCanary(ns.name, "podinfo");
        return c.status?.phase === "Succeeded" ? c : undefined;
      }, 60_000, 200);
      assert.equal(secretRef(done), undefined, "the condition is gone");
      const primary = await kubectlJson<{ spec: { template: { spec: { containers: { envFrom?: { secretRef?: { name: string } }[] }[] } } } }>(["get", "deployment", "podinfo-primary", "-n", ns.name]);
      assert.equal(primary.spec.template.spec.containers[0]?.envFrom?.[0]?.secretRef?.name, "podinfo-secret-primary");
      const copy = await kubectlJson<{ data: Record<string, string> }>(["get", "secret", "podinfo-secret-primary", "-n", ns.name]);
      assert.equal(Buffer.from(copy.data.TOKEN ?? "", "base64").toString(), "xyz");
      assert.ok((await getDeployment(ns.name, "podinfo-primary")).metadata.name);
    });

    it("restores a deleted generated Service within 2 s, from its own watch event", async () => {
      await kubectlOk(["delete", "service", "podinfo-canary", "-n", ns.name]);
      const deletedAt = Date.now();
      await eventually("podinfo-canary restored", async () => ((await kubectl(["get", "service", "podinfo-canary", "-n", ns.name])).code === 0 ? true : undefined), 2_000, 50);
      console.log(`      podinfo-canary restored ${Date.now() - deletedAt} ms after its deletion`);
    });

    it("restores a deleted -primary Secret copy within 2 s, with the promoted content", async () => {
      await kubectlOk(["delete", "secret", "podinfo-secret-primary", "-n", ns.name]);
      const deletedAt = Date.now();
      const copy = await eventually("podinfo-secret-primary restored", async () => {
        const r = await kubectl(["get", "secret", "podinfo-secret-primary", "-n", ns.name, "-o", "json"]);
        return r.code === 0 ? (JSON.parse(r.stdout) as { data: Record<string, string> }) : undefined;
      }, 2_000, 50);
      console.log(`      podinfo-secret-primary restored ${Date.now() - deletedAt} ms after its deletion`);
      assert.equal(Buffer.from(copy.data.TOKEN ?? "", "base64").toString(), "xyz");
    });

    it("restores a hand-edited primary (no webhook to deny it) within 2 s, once", async () => {
      assert.ok(!(await events(ns.name, "podinfo")).some((e) => e.reason === "ObjectRestored"), "nothing was restored before the edit");
      const promoted = (await getDeployment(ns.name, "podinfo-primary")).spec.template.spec.containers[0]?.image;
      await kubectlOk(["set", "image", "deployment/podinfo-primary", "app=podinfo:hacked", "-n", ns.name]);
      await eventually("the primary's image restored", async () => {
        const d = await getDeployment(ns.name, "podinfo-primary");
        return d.spec.template.spec.containers[0]?.image === promoted ? true : undefined;
      }, 2_000, 50);
      await new Promise((r) => setTimeout(r, 2_000));
      const restored = (await events(ns.name, "podinfo")).filter((e) => e.reason === "ObjectRestored");
      assert.equal(restored.reduce((n, e) => n + (e.count ?? 1), 0), 1, JSON.stringify(restored));
    });

    it("restores a hand-edited route in one write, straight to the status split", async () => {
      assert.deepEqual(await routeWeights(ns.name, "podinfo"), { primary: 100, canary: 0 });
      const watch = watchRoute(ns.name, "podinfo");
      try {
        await eventually("the watch to start", async () => (watch.lines.length > 0 ? true : undefined), 10_000, 50);
        const route = await kubectlJson<{ spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } }>(["get", "httproutes.gateway.networking.k8s.io", "podinfo", "-n", ns.name]);
        const rules = route.spec.rules.map((r) => ({ ...r, backendRefs: r.backendRefs.map((b) => ({ ...b, weight: b.name.endsWith("-canary") ? 100 : 200 })) }));
        await kubectlOk(["patch", "httproutes.gateway.networking.k8s.io", "podinfo", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { rules } })]);
        const editedAt = Date.now();
        await eventually("the route restored", async () => {
          const w = await routeWeights(ns.name, "podinfo");
          return w?.primary === 100 && w.canary === 0 ? true : undefined;
        }, 2_000, 50);
        console.log(`      route restored ${Date.now() - editedAt} ms after the edit`);
        await new Promise((r) => setTimeout(r, 1_000));
        // The first line is the state before the edit, then the edit itself (200 100), then aviary's writes.
        const writes = watch.lines.slice(1).map((l) => l.split(" ").slice(1).join(" "));
        assert.equal(writes[0], "200 100", watch.lines.join("\n"));
        assert.deepEqual(writes.slice(1), ["100 0"], `aviary wrote the route once, with the status split:\n${watch.lines.join("\n")}`);
      } finally {
        watch.stop();
      }
    });

    it("restores a primary deleted in the middle of a run within 2 s, from its snapshot of the promoted revision", async () => {
      await apply(ns.name, deployment("api", "api:1"));
      // The run stops at the confirm-promotion gate, closed until the end of the test.
      hooks.status.set("/api-gate", 403);
      await apply(ns.name, canary("api", { analysis: { stepWeight: 20, maxWeight: 40, webhooks: [{ name: "gate", type: "confirm-promotion", url: hooks.url("/api-gate") }] } }));
      const init = await waitForPhase(ns.name, "api", "Initialized");
      assert.equal((await snapshot(ns.name, "api-primary")).metadata.annotations?.["aviary.dev/revision"], init.status?.lastPromotedSpec);
      await kubectlOk(["set", "image", "deployment/api", "app=api:2", "-n", ns.name]);
      await waitForPhase(ns.name, "api", "WaitingPromotion");
      const uid = (await kubectlJson<{ metadata: { uid: string } }>(["get", "deployment", "api-primary", "-n", ns.name])).metadata.uid;

      await kubectlOk(["delete", "deployment", "api-primary", "-n", ns.name]);
      const deletedAt = Date.now();
      const restored = await eventually("api-primary re-created", async () => {
        const r = await kubectl(["get", "deployment", "api-primary", "-n", ns.name, "-o", "json"]);
        const d = r.code === 0 ? (JSON.parse(r.stdout) as DeploymentObject & { metadata: { uid: string } }) : undefined;
        return d !== undefined && d.metadata.uid !== uid ? d : undefined;
      }, 2_000, 50);
      console.log(`      api-primary re-created ${Date.now() - deletedAt} ms after its deletion`);
      assert.equal(image(restored), "api:1", "the promoted revision, not the one under analysis");
      assert.equal(restored.metadata.annotations?.["aviary.dev/revision"], init.status?.lastPromotedSpec);
      assert.deepEqual(restored.metadata.ownerReferences?.map((o) => `${o.kind}/${o.name}`), ["Canary/api"]);
      const restoredEvents = await eventually("an ObjectRestored event", async () => {
        const e = (await events(ns.name, "api")).filter((x) => x.reason === "ObjectRestored");
        return e.length > 0 ? e : undefined;
      }, 10_000, 100);
      assert.match(restoredEvents[0]!.message, /^api-primary was missing: re-created from its snapshot of the promoted revision /);
      const during = await getCanary(ns.name, "api");
      assert.equal(during.status?.phase, "WaitingPromotion", "the run goes on");
      assert.equal(during.status?.canaryWeight, 40);

      hooks.status.delete("/api-gate");
      const done = await waitForPhase(ns.name, "api", "Succeeded", 60_000);
      assert.equal(image(await getDeployment(ns.name, "api-primary")), "api:2");
      assert.equal((await snapshot(ns.name, "api-primary")).metadata.annotations?.["aviary.dev/revision"], done.status?.lastPromotedSpec, "the snapshot follows the promotion");
      assert.ok(!(await events(ns.name, "api")).some((e) => e.reason === "RolledBack"), "nothing was rolled back");
    });

    it("never advances a weight while a Service the run routes to is missing, and resumes once it is back", async () => {
      await apply(ns.name, deployment("web", "web:1"));
      await apply(ns.name, canary("web", { analysis: { interval: "2s", stepWeight: 10, maxWeight: 90 } }));
      await waitForPhase(ns.name, "web", "Initialized");
      await kubectlOk(["set", "image", "deployment/web", "app=web:2", "-n", ns.name]);
      await eventually("the run under way", async () => (((await getCanary(ns.name, "web")).status?.canaryWeight ?? 0) >= 10 ? true : undefined), 60_000, 100);
      // web-canary cannot be created again until the test allows it.
      const allow = await denyInNamespace(ns.name, "no-web-canary", {
        groups: [""], resources: ["services"], operations: ["CREATE"], why: "web-canary may not be created for now", allowed: "object.metadata.name != 'web-canary'",
      },
        ["create", "service", "clusterip", "web-canary", "--tcp=9898", "-n", ns.name]);
      try {
        await kubectlOk(["delete", "service", "web-canary", "-n", ns.name]);
        const held = await eventually("the run to hold, naming the missing Service", async () => {
          const c = await getCanary(ns.name, "web");
          return c.status?.conditions?.some((k) => /Service\/web-canary missing/.test(k.message ?? "")) === true ? c : undefined;
        }, 10_000, 100);
        const weight = held.status?.canaryWeight;
        assert.equal(held.status?.phase, "Progressing");
        // Four analysis intervals with web-canary missing.
        await holdsFor(`the weight held at ${weight}%`, async () => {
          const c = await getCanary(ns.name, "web");
          if (c.status?.canaryWeight !== weight) return `weight ${c.status?.canaryWeight}%`;
          return (await kubectl(["get", "service", "web-canary", "-n", ns.name])).code === 0 ? "web-canary exists" : undefined;
        }, 8_000);
        assert.ok((await events(ns.name, "web")).some((e) => e.reason === "ObjectMissing"), "an ObjectMissing event");
      } finally {
        await allow();
      }
      await eventually("web-canary restored", async () => ((await kubectl(["get", "service", "web-canary", "-n", ns.name])).code === 0 ? true : undefined), 20_000, 100);
      await waitForPhase(ns.name, "web", "Succeeded", 120_000);
      assert.equal(image(await getDeployment(ns.name, "web-primary")), "web:2");
      assert.deepEqual(await routeWeights(ns.name, "web"), { primary: 100, canary: 0 });
    });

    it("deleting the target mid-run cancels the run, and deleting the Canary does nothing: no rollback, no alert, info level", async () => {
      await apply(ns.name, { apiVersion: "aviary.dev/v1beta1", kind: "AlertProvider", metadata: { name: "team" }, spec: { type: "webhook", address: hooks.url("/shop-alerts") } });
      await apply(ns.name, deployment("shop", "shop:1"));
      hooks.status.set("/shop-gate", 403);
      await apply(ns.name, canary("shop", {
        analysis: {
          stepWeight: 20, maxWeight: 40,
          webhooks: [{ name: "gate", type: "confirm-promotion", url: hooks.url("/shop-gate") }],
          alerts: [{ name: "team", severity: "info", providerRef: { name: "team" } }],
        },
      }));
      await waitForPhase(ns.name, "shop", "Initialized");
      await kubectlOk(["set", "image", "deployment/shop", "app=shop:2", "-n", ns.name]);
      await waitForPhase(ns.name, "shop", "WaitingPromotion");
      const alerts = () => hooks.calls.filter((c) => c.path === "/shop-alerts").map((c) => String(c.body.phase ?? "") + " " + String((c.body as { reason?: string }).reason));
      await eventually("the run's NewRevision alert", async () => (alerts().some((a) => a.endsWith("NewRevision")) ? true : undefined), 15_000);
      const sent = alerts().length;
      const from = aviary.logs.length;
      const shopLines = () => aviary.logs.slice(from).filter((l) => l.includes(`"namespace":"${ns.name}"`) && l.includes('"name":"shop"'));

      await kubectlOk(["delete", "deployment", "shop", "-n", ns.name]);
      const cancelled = await waitForPhase(ns.name, "shop", "Succeeded", 20_000);
      assert.equal(cancelled.status?.canaryWeight, 0);
      assert.deepEqual(await routeWeights(ns.name, "shop"), { primary: 100, canary: 0 });
      assert.equal(image(await getDeployment(ns.name, "shop-primary")), "shop:1", "the primary keeps serving the promoted revision");
      const reasons = (await events(ns.name, "shop")).map((e) => e.reason);
      assert.ok(reasons.includes("TargetDeleted") && !reasons.includes("RolledBack"), reasons.join(", "));
      const told = shopLines().map(parsed).find((l) => /the run of revision .* is cancelled/.test(l.msg ?? ""));
      assert.equal(told?.level, "info", "the cancellation is told at info level");

      await kubectlOk(["delete", "canaries.aviary.dev", "shop", "-n", ns.name]);
      await holdsFor("no alert after the deletions", async () => (alerts().length > sent ? alerts().slice(sent).join(", ") : undefined), 3_000);
      assert.deepEqual(shopLines().filter((l) => RELEASE_LINE.test(l) || /"level":"(warn|error)"/.test(l)), [], "nothing above info level, no release line");
    });
  });
});
