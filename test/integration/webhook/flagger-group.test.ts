/**
 * The admission webhook serving Flagger's group (`--api-group flagger.app`), registered by URL
 * as a local run does: its validating rules name flagger.app, so Flagger's Canaries are
 * validated as they are, and aviary.dev's objects are not sent to it any more.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { applyManifest, eventually, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { canary } from "../../support/canary-fixtures.ts";

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

/** A Canary the CRD schema accepts and aviary's rules refuse (gatewayapi without gatewayRefs). */
function invalid(name: string, apiVersion: string): Record<string, unknown> {
  const c = canary(name) as { spec: { service: Record<string, unknown> } } & Record<string, unknown>;
  delete c.spec.service.gatewayRefs;
  return { ...c, apiVersion };
}

describe("admission webhook serving flagger.app (registered by URL)", function () {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let webhook: AviaryProcess | undefined;
  let certDir: string;

  before(async () => {
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/flagger-compat/crds"]);
    ns = await tempNamespace("aviary-flagger-webhook");
    certDir = await mkdtemp(join(tmpdir(), "aviary-certs-"));
    const port = await freePort();
    webhook = startAviary(["--no-controller", "--api-group", "flagger.app", "--webhook-host", "127.0.0.1", "--webhook-port", String(port),
      "--webhook-url", `https://127.0.0.1:${port}`, "--cert-dir", certDir]);
    await webhook.waitForLog(/admission webhook serving/, 30_000);
  });

  after(async () => {
    await webhook?.stop();
    await kubectl(["delete", "mutatingwebhookconfiguration", "aviary", "--ignore-not-found"]);
    await kubectl(["delete", "validatingwebhookconfiguration", "aviary", "--ignore-not-found"]);
    await ns?.remove();
    await rm(certDir, { recursive: true, force: true });
  });

  it("registers its validating rules for flagger.app", async () => {
    const config = await kubectlJson<{ webhooks: { name: string; rules: { apiGroups: string[] }[] }[] }>(["get", "validatingwebhookconfiguration", "aviary"]);
    for (const kind of ["canaries", "metrictemplates", "alertproviders"]) {
      assert.deepEqual(config.webhooks.find((w) => w.name === `${kind}.validate.aviary.dev`)?.rules.map((r) => r.apiGroups), [["flagger.app"]], kind);
    }
  });

  it("denies an invalid Flagger Canary naming the field, admits a valid one, and no longer sees aviary.dev", async () => {
    const denied = await eventually("the webhook to be called", async () => {
      const r = await applyManifest(ns.name, invalid("probe", "flagger.app/v1beta1"));
      return r.code !== 0 && /denied the request/.test(r.stderr) ? r : undefined;
    }, 30_000, 500);
    assert.match(denied.stderr, /Canary .*probe is invalid:\nspec\.service\.gatewayRefs/);
    const ok = await applyManifest(ns.name, { ...canary("valid"), apiVersion: "flagger.app/v1beta1" });
    assert.equal(ok.code, 0, ok.stderr);
    // aviary.dev is not the group served: its objects are not sent to this webhook.
    const other = await applyManifest(ns.name, invalid("elsewhere", "aviary.dev/v1beta1"));
    assert.equal(other.code, 0, other.stderr);
  });
});
