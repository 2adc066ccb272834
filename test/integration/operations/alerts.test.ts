/**
 * Alerts through AlertProviders during a real run: a generic JSON webhook receives what
 * happened and why, while an AlertProvider whose Secret is missing never blocks the run and is
 * reported as an AlertFailed event.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { startHookServer, type HookServer } from "../../support/hooks.ts";
import { eventually, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, canary, deployment, events, waitForPhase } from "../../support/canary-fixtures.ts";

describe("alerts through AlertProviders", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let receiver: HookServer;
  let aviary: AviaryProcess;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "-k", "manifests/crds"]);
    ns = await tempNamespace();
    receiver = await startHookServer();
    aviary = startAviary(["--no-webhook", "--namespace", ns.name]);
  });
  after(async () => {
    await aviary?.stop();
    await receiver?.close();
    await ns?.remove();
  });

  it("sends each step to the team's webhook and reports the provider whose Secret is missing", async () => {
    await apply(ns.name, { apiVersion: "aviary.dev/v1beta1", kind: "AlertProvider", metadata: { name: "team" }, spec: { type: "webhook", address: receiver.url("/alerts") } });
    await apply(ns.name, { apiVersion: "aviary.dev/v1beta1", kind: "AlertProvider", metadata: { name: "on-call" }, spec: { type: "slack", secretRef: { name: "slack-url-that-was-never-created" } } });
    await apply(ns.name, deployment("shop", "shop:1"));
    await apply(ns.name, canary("shop", {
      analysis: {
        alerts: [
          { name: "team", severity: "info", providerRef: { name: "team" } },
          { name: "on-call", severity: "info", providerRef: { name: "on-call" } },
        ],
      },
    }));
    await waitForPhase(ns.name, "shop", "Initialized");
    await kubectlOk(["set", "image", "deployment/shop", "app=shop:2", "-n", ns.name]);
    await waitForPhase(ns.name, "shop", "Succeeded", 60_000);

    const bodies = await eventually("the promotion alert", async () => {
      const b = receiver.calls.filter((c) => c.path === "/alerts").map((c) => c.body as Record<string, unknown>);
      return b.some((x) => x.reason === "Promoted") ? b : undefined;
    }, 15_000);
    const promoted = bodies.find((x) => x.reason === "Promoted")!;
    assert.equal(promoted.name, "shop");
    assert.equal(promoted.namespace, ns.name);
    assert.equal(promoted.schemaVersion, 1);
    assert.match(String(promoted.message), /\S/);
    assert.ok(bodies.some((x) => x.reason === "NewRevision"), `reasons: ${bodies.map((x) => x.reason).join(", ")}`);

    const failed = (await events(ns.name, "shop")).filter((e) => e.reason === "AlertFailed");
    assert.ok(failed.length > 0, "the missing Secret is reported");
    assert.match(failed[0]!.message, /on-call/);
    assert.match(failed[0]!.message, /slack-url-that-was-never-created/);
  });
});
