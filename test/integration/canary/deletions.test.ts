/**
 * Lifecycle beyond the happy path, against the real API server: deletions (namespace,
 * referenced Secret) are not revisions, and generated objects deleted or edited by hand are
 * restored at once from their own watch events. aviary runs as its own process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { eventually, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, events, getCanary, getDeployment, routeWeights, waitForPhase } from "../../support/canary-fixtures.ts";
import type { CanaryObject } from "../../support/canary-fixtures.ts";

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
const linesOf = (p: AviaryProcess, ns: string) => p.logs.filter((l) => l.includes(`"namespace":"${ns}"`));

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

describe("canary engine: deletions are not revisions", function () {
  it("deleting namespaces that hold Canaries starts no release, rolls nothing back and logs no error", async () => {
    // The namespace controller deletes kinds in no fixed order; three namespaces make it
    // likely that in one of them the target and its Secret go before the Canary.
    const namespaces = await Promise.all([0, 1, 2].map(() => tempNamespace("aviary-nsdel")));
    const aviary = startAviary(["--no-webhook"]);
    try {
      await Promise.all(namespaces.map(async (ns) => {
        await kubectlOk(["create", "secret", "generic", "podinfo-secret", "-n", ns.name, "--from-literal=TOKEN=abc"]);
        await apply(ns.name, deploymentWithSecret("podinfo", "podinfo:1", "podinfo-secret"));
        await apply(ns.name, canary("podinfo"));
        await waitForPhase(ns.name, "podinfo", "Initialized");
      }));
      await Promise.all(namespaces.map((ns) => kubectlOk(["delete", "namespace", ns.name, "--wait=false"])));
      await Promise.all(namespaces.map((ns) =>
        eventually(`namespace ${ns.name} to be gone`, async () => ((await kubectl(["get", "namespace", ns.name])).code !== 0 ? true : undefined), 120_000, 500)));
      // Whatever aviary was woken by has been handled: its queue drained for a few intervals.
      await new Promise((r) => setTimeout(r, 3_000));
      const lines = namespaces.flatMap((ns) => linesOf(aviary, ns.name));
      assert.deepEqual(lines.filter((l) => RELEASE_LINE.test(l)), [], "no release or rollback during the teardown");
      assert.deepEqual(aviary.logs.filter((l) => l.includes('"level":"error"')), [], "no error-level line");
    } finally {
      await aviary.stop();
      await Promise.all(namespaces.map((ns) => ns.remove()));
    }
  });

  describe("a referenced Secret and generated objects", function () {
    let ns: Awaited<ReturnType<typeof tempNamespace>>;
    let aviary: AviaryProcess;
    before(async () => {
      ns = await tempNamespace("aviary-restore");
      aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
      await kubectlOk(["create", "secret", "generic", "podinfo-secret", "-n", ns.name, "--from-literal=TOKEN=abc"]);
      await apply(ns.name, deploymentWithSecret("podinfo", "podinfo:1", "podinfo-secret"));
      await apply(ns.name, canary("podinfo", { analysis: { stepWeight: 50, maxWeight: 50 } }));
      await waitForPhase(ns.name, "podinfo", "Initialized");
    });
    after(async () => {
      await aviary?.stop();
      await ns?.remove();
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
  });
});
