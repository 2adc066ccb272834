/**
 * Two aviary processes with leader election on a Lease: only the leader reconciles; when it
 * is killed in the middle of a run (SIGKILL: no release, like a crashed pod) the standby takes
 * over within the lease duration and finishes the run from status: weights never go
 * backwards and the promotion happens once.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { eventually, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, events, getDeployment, image, routeWeights, waitForPhase, watchWeights } from "../../support/canary-fixtures.ts";

const holder = async (ns: string): Promise<string | undefined> => {
  const lease = await kubectlJson<{ spec?: { holderIdentity?: string } }>(["get", "lease", "aviary-leader", "-n", ns]).catch(() => undefined);
  return lease?.spec?.holderIdentity || undefined;
};

describe("leader election: two aviary processes", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  const replicas = new Map<string, AviaryProcess>();

  before(async () => {
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace();
    for (const id of ["aviary-a", "aviary-b"]) {
      replicas.set(id, startAviary(["--no-webhook", "--namespace", ns.name, "--leader-elect", "--lease-namespace", ns.name, "--lease-duration", "3", "--identity", id]));
    }
  });
  after(async () => {
    await Promise.all([...replicas.values()].map((r) => r.stop()));
    await ns?.remove();
  });

  it("only the leader reconciles; a standby finishes the run after the leader is killed", async () => {
    const leader = await eventually("a leader", () => holder(ns.name), 30_000);
    const standby = leader === "aviary-a" ? "aviary-b" : "aviary-a";
    await apply(ns.name, deployment("podinfo", "podinfo:1"));
    await apply(ns.name, canary("podinfo", { analysis: { interval: "2s", stepWeight: 20, maxWeight: 80 } }));
    await waitForPhase(ns.name, "podinfo", "Initialized", 60_000);
    const standbyLogs = replicas.get(standby)!.logs;
    assert.ok(!standbyLogs.some((l) => /"msg":"phase /.test(l)), "the standby has not reconciled anything");

    const weights = watchWeights(ns.name, "podinfo");
    await kubectlOk(["set", "image", "deployment/podinfo", "app=podinfo:2", "-n", ns.name]);
    await eventually("weight 40", async () => ((await routeWeights(ns.name, "podinfo"))?.canary === 40 ? true : undefined), 60_000, 100);
    const killedAt = Date.now();
    await replicas.get(leader)!.kill();
    replicas.delete(leader);

    await eventually("the standby to take the lease", async () => ((await holder(ns.name)) === standby ? true : undefined), 20_000, 200);
    const takeover = Date.now() - killedAt;
    console.log(`      standby took the Lease ${takeover} ms after the leader was killed (lease duration 3 s)`);
    assert.ok(takeover < 3_000 + 2_000, `taken over within the lease duration (plus one retry period): ${takeover} ms`);

    const done = await waitForPhase(ns.name, "podinfo", "Succeeded", 90_000);
    const seen = (await weights.stop()).filter((w) => w > 0);
    assert.deepEqual(seen, [20, 40, 60, 80], `weights never go backwards: ${seen.join(" → ")}`);
    assert.equal(image(await getDeployment(ns.name, "podinfo-primary")), "podinfo:2");
    const promotions = (await events(ns.name, "podinfo")).filter((e) => e.reason === "Promoted");
    assert.equal(promotions.reduce((n, e) => n + (e.count ?? 1), 0), 1, "promoted once");
    assert.equal(done.status?.conditions?.find((c) => c.type === "Promoted")?.status, "True");
    assert.ok(replicas.get(standby)!.logs.some((l) => /"msg":"phase /.test(l)), "the standby finished the run");
  });
});
