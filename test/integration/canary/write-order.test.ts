/**
 * The order of aviary's writes when one of them fails. A ValidatingAdmissionPolicy makes
 * the API server refuse chosen status writes of one Canary for a while, as a dying API
 * server or a crash between two writes would: the route must never run ahead of the status
 * (the retry would move traffic back), and a transition retried after a refused status write
 * must be told once in the Canary's events.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { kubectl, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { apply, canary, deployment, waitForPhase, watchWeights } from "../../support/canary-fixtures.ts";
import { loadHook, setImage, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";
import { sleep, waitFor } from "../../support/peers.ts";

const POLICY = "aviary-it-hold-canary-status";

/** Refuses status writes of Canaries in `ns` for which `refuse` (CEL) holds. */
function holdPolicy(refuse: string, message: string): Record<string, unknown> {
  return {
    apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: { name: POLICY },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: { resourceRules: [{ apiGroups: ["aviary.dev"], apiVersions: ["*"], operations: ["UPDATE"], resources: ["canaries/status"] }] },
      validations: [{ expression: `!(${refuse})`, message }],
    },
  };
}

const binding = (ns: string) => ({
  apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicyBinding", metadata: { name: POLICY },
  spec: { policyName: POLICY, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } } },
});

async function applyCluster(obj: unknown): Promise<void> {
  const r = await kubectl(["apply", "--server-side", "--force-conflicts", "-f", "-"], JSON.stringify(obj));
  if (r.code !== 0) throw new Error(r.stderr);
}

/** Waits until the API server refuses this status patch (policies take effect after a moment). */
async function refused(ns: string, name: string, patch: unknown, message: string): Promise<void> {
  await waitFor(`the policy "${message}" in force`, 30_000, async () => {
    const r = await kubectl(["patch", "canaries.aviary.dev", name, "-n", ns, "--subresource", "status", "--type", "merge", "-p", JSON.stringify(patch), "--dry-run=server"]);
    return r.code !== 0 && r.stderr.includes(message) ? true : undefined;
  });
}

/** Any change to the Canary is a reconcile. */
const wake = (ns: string, name: string, n: string) => kubectlOk(["annotate", "--overwrite", "canaries.aviary.dev", name, "-n", ns, `example.com/wake=${n}`]);

interface EventItem { reason: string; message: string; count?: number; involvedObject: { name: string } }

describe("canary engine: the order of writes when the API server refuses some", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;
  const name = "order";

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", POLICY, "--ignore-not-found"]);
    await stopEngineBench({ ns, hooks, aviary });
  });

  it("never moves traffic back after a refused status write, and tells the new revision once", async () => {
    await apply(ns.name, deployment(name, `${name}:1`));
    await apply(ns.name, canary(name, { analysis: { stepWeight: 20, maxWeight: 60, webhooks: loadHook(hooks, name) } }));
    await waitForPhase(ns.name, name, "Initialized");
    const watch = watchWeights(ns.name, name);

    // First the start of the run is refused, then its move to 40%.
    await applyCluster(holdPolicy("has(object.status.phase) && object.status.phase == 'Progressing' && oldObject.status.phase != 'Progressing'", "held before the run"));
    await applyCluster(binding(ns.name));
    await refused(ns.name, name, { status: { phase: "Progressing" } }, "held before the run");
    await setImage(ns.name, name, `${name}:2`);
    await aviary.waitForLog(/held before the run/, 30_000);
    await sleep(3000);

    // A refused write is a problem for a person: aviary looks again after a minute, or at the
    // Canary's next change, which the test makes to move on at once.
    await applyCluster(holdPolicy("has(object.status.canaryWeight) && object.status.canaryWeight == 40", "held at 40"));
    await refused(ns.name, name, { status: { canaryWeight: 40 } }, "held at 40");
    await wake(ns.name, name, "1");
    await aviary.waitForLog(/held at 40/, 60_000);
    await sleep(3000);
    await kubectlOk(["delete", "validatingadmissionpolicybinding", POLICY]);
    await wake(ns.name, name, "2");

    await waitForPhase(ns.name, name, "Succeeded", 90_000);
    const seen = await watch.stop();
    // Within the run (before the promotion's final return to 0) the weight only grows.
    const run = [...seen];
    while (run.length > 0 && run[run.length - 1] === 0) run.pop();
    assert.ok(run.every((w, i) => i === 0 || w >= (run[i - 1] as number)), `the canary weight went back: ${seen.join(" → ")}`);
    assert.deepEqual(seen.filter((w) => w > 0), [20, 40, 60], `weights seen: ${seen.join(" → ")}`);

    const events = await kubectlJson<{ items: EventItem[] }>(["get", "events", "-n", ns.name, "--field-selector", `involvedObject.name=${name}`]);
    const told = events.items.filter((e) => e.reason === "NewRevision" && e.message.includes("starting a canary run"));
    assert.equal(told.length, 1, `NewRevision events: ${JSON.stringify(told)}`);
    assert.equal(told[0]?.count ?? 1, 1, `NewRevision written ${told[0]?.count} times`);
    const advanced = events.items.filter((e) => e.reason === "WeightAdvanced" && / -> 40%/.test(e.message));
    assert.deepEqual(advanced.map((e) => e.count ?? 1), [1], `20% -> 40% told: ${JSON.stringify(advanced)}`);
  });
});
