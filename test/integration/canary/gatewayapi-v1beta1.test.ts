/**
 * `gatewayapi:v1beta1` end to end: the canary engine (aviary as its own process) drives the
 * gatewayapi router pinned to HTTPRoute gateway.networking.k8s.io/v1beta1 against the real
 * API server. The route's managed fields show the version aviary wrote; the weights move
 * step by step, a route deleted by hand comes back, and a failed run restores the primary.
 */
import assert from "node:assert/strict";
import type { AviaryProcess } from "../../support/aviary.ts";
import type { HookServer } from "../../support/hooks.ts";
import { eventually, kubectlJson, kubectlOk } from "../../support/kubectl.ts";
import { apply, canary, deployment, routeWeights, waitForPhase, watchWeights } from "../../support/canary-fixtures.ts";
import { failRollout, loadHook, primaryImage, promoteWatching, startEngineBench, stopEngineBench } from "./router-runs.ts";
import type { EngineBench } from "./router-runs.ts";

interface Managed { manager: string; apiVersion: string; operation: string }

describe("canary engine: gatewayapi:v1beta1", function () {
  let ns: EngineBench["ns"];
  let hooks: HookServer;
  let aviary: AviaryProcess;
  const name = "beta";

  before(async () => ({ ns, hooks, aviary } = await startEngineBench()));
  after(() => stopEngineBench({ ns, hooks, aviary }));

  it("initializes an HTTPRoute written at v1beta1, at 100/0", async () => {
    await apply(ns.name, deployment(name, `${name}:1`));
    // The Canary CRD is cluster-wide: apply this tree's (which knows the provider) right before use.
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    await apply(ns.name, canary(name, { provider: "gatewayapi:v1beta1", analysis: { stepWeight: 20, maxWeight: 60, webhooks: loadHook(hooks, name) } }));
    await waitForPhase(ns.name, name, "Initialized");
    assert.deepEqual(await routeWeights(ns.name, name), { primary: 100, canary: 0 });
    const route = await kubectlJson<{ metadata: { managedFields: Managed[] } }>(["get", "httproutes.v1beta1.gateway.networking.k8s.io", name, "-n", ns.name, "--show-managed-fields"]);
    const aviaryFields = route.metadata.managedFields.filter((m) => m.manager === "aviary");
    assert.deepEqual(aviaryFields.map((m) => [m.operation, m.apiVersion]), [["Apply", "gateway.networking.k8s.io/v1beta1"]]);
  });

  it("brings back an HTTPRoute deleted by hand at the next reconcile", async () => {
    await kubectlOk(["delete", "httproutes.gateway.networking.k8s.io", name, "-n", ns.name]);
    // Any change to the Canary is a reconcile (the periodic resync would be one too, later).
    await kubectlOk(["annotate", "canaries.aviary.dev", name, "-n", ns.name, "example.com/touched=1"]);
    await eventually("the HTTPRoute back at 100/0", async () => {
      const w = await routeWeights(ns.name, name);
      return w?.primary === 100 ? w : undefined;
    }, 30_000, 300);
  });

  it("shifts 20 → 40 → 60 and promotes", async () => {
    const { seen } = await promoteWatching(ns.name, name, `${name}:2`, watchWeights(ns.name, name));
    assert.deepEqual(seen.filter((w) => w > 0), [20, 40, 60], `weights seen: ${seen.join(" → ")}`);
    assert.deepEqual(await routeWeights(ns.name, name), { primary: 100, canary: 0 });
    assert.equal(await primaryImage(ns.name, name), `${name}:2`);
  });

  it("rolls back when the rollout webhook fails: Failed, 100/0, primary unchanged", async () => {
    const failed = await failRollout(ns.name, hooks, name, `${name}:3-bad`);
    assert.equal(failed.status?.failedChecks, 2);
    assert.deepEqual(await routeWeights(ns.name, name), { primary: 100, canary: 0 });
    assert.equal(await primaryImage(ns.name, name), `${name}:2`);
  });
});
