import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { generateCertBundle } from "../../../src/webhook/certs.ts";
import { DirectoryCertStore } from "../../../src/webhook/cert-store.ts";
import { startWebhook } from "../../../src/webhook/run.ts";
import type { WebhookConfig } from "../../../src/webhook/run.ts";
import type { AdmissionResponse } from "../../../src/webhook/admission.ts";
import { admissionRequest, deployment, DEPLOYMENT_GVK, quietLogger, review, send } from "./helpers.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const AVIARY_SA = "system:serviceaccount:aviary-system:aviary";

function webhookConfig(kind: string, paths: string[]) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind,
    metadata: { name: "aviary" },
    webhooks: paths.map((path) => ({ name: `${path.split("/")[2]}.aviary.dev`, clientConfig: { url: `https://127.0.0.1:9443${path}` } })),
  };
}

const caBundles = (kube: FakeKube, kind: string) =>
  (kube.objects.get(`admissionregistration.k8s.io/v1/${kind}//aviary`)?.webhooks as Array<{ clientConfig: { caBundle?: string } }>).map((w) =>
    Buffer.from(w.clientConfig.caBundle ?? "", "base64").toString(),
  );

describe("startWebhook", function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "aviary-run-"));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("issues certificates, patches the caBundle, serves every route, and follows a replaced CA", async () => {
    const kube = new FakeKube();
    kube.put(webhookConfig("MutatingWebhookConfiguration", ["/mutate/deployments"]));
    kube.put(webhookConfig("ValidatingWebhookConfiguration", ["/validate/canaries", "/validate/generated"]));
    const woken: string[] = [];
    const config: WebhookConfig = {
      host: "127.0.0.1",
      port: 0,
      certificates: { dir },
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
      certPollIntervalMs: 50,
      webhookConfigurations: { mutating: ["aviary"], validating: ["aviary"] },
      aviaryUsers: [AVIARY_SA],
    };
    const webhook = await startWebhook(config, { log: quietLogger(), kube, onRevision: (ns, name) => woken.push(`${ns}/${name}`) });
    try {
      const stored = await new DirectoryCertStore(dir).load();
      assert.ok(stored);
      assert.deepEqual(caBundles(kube, "MutatingWebhookConfiguration"), [stored.caCert]);
      assert.deepEqual(caBundles(kube, "ValidatingWebhookConfiguration"), [stored.caCert, stored.caCert]);
      assert.deepEqual(webhook.server.routes(), [
        "/mutate/deployments",
        "/validate/canaries",
        "/validate/metrictemplates",
        "/validate/alertproviders",
        "/validate/generated",
        "/validate/scale",
      ]);

      const labels = { app: "podinfo", "aviary.dev/canary": "podinfo" };
      const req = admissionRequest("UPDATE", DEPLOYMENT_GVK, deployment("podinfo", { labels, image: "podinfo:2" }), deployment("podinfo", { labels }));
      const res = await send(webhook.address.port, JSON.stringify(review(req)), { ca: stored.caCert, path: "/mutate/deployments" });
      const answer = (res.json() as { response: AdmissionResponse }).response;
      assert.equal(answer.uid, req.uid);
      assert.equal(answer.patchType, "JSONPatch");
      assert.deepEqual(woken, ["default/podinfo"]);

      // A new CA appears in the directory: it is patched in, then served.
      const replacement = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
      await new DirectoryCertStore(dir).save(replacement);
      const want = new X509Certificate(replacement.cert).fingerprint256;
      let served = "";
      for (let i = 0; i < 100 && served !== want; i++) {
        await sleep(20);
        served = await send(webhook.address.port, "{}", { ca: replacement.caCert, path: "/validate/canaries" }).then((r) => r.peerFingerprint, () => "");
      }
      assert.equal(served, want);
      assert.deepEqual(caBundles(kube, "ValidatingWebhookConfiguration"), [replacement.caCert, replacement.caCert]);
    } finally {
      await webhook.stop();
    }
  });

  it("refuses a Secret store or caBundle patching without a KubeClient", async () => {
    const base = { dnsNames: ["localhost"], aviaryUsers: [AVIARY_SA], port: 0, host: "127.0.0.1" };
    await assert.rejects(
      startWebhook({ ...base, certificates: { secret: { namespace: "aviary-system", name: "certs" } }, webhookConfigurations: { mutating: [], validating: [] } }, { log: quietLogger() }),
      /Secret certificate store needs a KubeClient/,
    );
    await assert.rejects(
      startWebhook({ ...base, certificates: { dir }, webhookConfigurations: { mutating: ["aviary"], validating: [] } }, { log: quietLogger() }),
      /caBundle needs a KubeClient/,
    );
  });
});
