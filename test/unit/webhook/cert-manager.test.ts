import assert from "node:assert/strict";
import type { CertBundle } from "../../../src/webhook/certs.ts";
import { generateCertBundle, notAfter } from "../../../src/webhook/certs.ts";
import type { CertChange } from "../../../src/webhook/cert-manager.ts";
import { CertManager } from "../../../src/webhook/cert-manager.ts";
import type { CertStore } from "../../../src/webhook/cert-store.ts";
import { CertStoreConflict, SecretCertStore } from "../../../src/webhook/cert-store.ts";
import { patchWebhookCaBundles } from "../../../src/webhook/ca-bundle.ts";
import { collectingLogger, quietLogger } from "./helpers.ts";
import { FakeKube } from "../../support/fake-kube.ts";

const DAY = 24 * 60 * 60 * 1000;

class MemoryStore implements CertStore {
  readonly description = "memory";
  bundle: CertBundle | null = null;
  saves = 0;
  async load() {
    return this.bundle;
  }
  async save(bundle: CertBundle) {
    this.saves++;
    this.bundle = bundle;
  }
}

const names = { dnsNames: ["aviary-webhook.aviary-system.svc"], ipAddresses: ["127.0.0.1"] };

describe("CertManager", function () {
  this.timeout(20_000);

  it("issues and saves a bundle when the store is empty, and the next process loads it", async () => {
    const store = new MemoryStore();
    const changes: CertChange[] = [];
    const first = new CertManager({ store, ...names, log: quietLogger(), keyBits: 1024 });
    first.onChange((c) => {
      changes.push(c);
    });
    const bundle = await first.refresh();
    assert.equal(store.saves, 1);
    assert.deepEqual(store.bundle, bundle);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.reason, "issued");
    assert.equal(changes[0]?.previous, null);
    assert.equal(changes[0]?.caChanged, true);

    const second = new CertManager({ store, ...names, log: quietLogger(), keyBits: 1024 });
    assert.deepEqual(await second.refresh(), bundle);
    assert.equal(store.saves, 1, "a valid stored bundle is reused, not reissued");
  });

  it("renews the serving certificate before expiry with the same CA, so the caBundle stays", async () => {
    const store = new MemoryStore();
    let now = new Date();
    const manager = new CertManager({ store, ...names, log: quietLogger(), keyBits: 1024, now: () => now });
    const first = await manager.refresh();
    const changes: CertChange[] = [];
    manager.onChange((c) => {
      changes.push(c);
    });
    now = new Date(notAfter(first.cert).getTime() - 10 * DAY);
    const renewed = await manager.refresh();
    assert.notEqual(renewed.cert, first.cert);
    assert.equal(renewed.caCert, first.caCert);
    assert.ok(notAfter(renewed.cert).getTime() > now.getTime() + 300 * DAY);
    assert.deepEqual(changes.map((c) => [c.reason, c.caChanged]), [["issued", false]]);
    assert.equal(manager.current(), renewed);
  });

  it("adopts a bundle someone else stored, at the next poll", async () => {
    const store = new MemoryStore();
    const manager = new CertManager({ store, ...names, log: quietLogger(), keyBits: 1024, pollIntervalMs: 20 });
    await manager.start();
    const changes: CertChange[] = [];
    manager.onChange((c) => {
      changes.push(c);
    });
    try {
      const external = await generateCertBundle({ ...names, keyBits: 1024 });
      store.bundle = external;
      for (let i = 0; i < 100 && changes.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(changes[0]?.reason, "external");
      assert.equal(changes[0]?.caChanged, true);
      assert.deepEqual(manager.current(), external);
    } finally {
      manager.stop();
    }
  });

  it("delivers a change again to a listener that failed, until it succeeds", async () => {
    const store = new MemoryStore();
    const { log, lines } = collectingLogger();
    const manager = new CertManager({ store, ...names, log, keyBits: 1024 });
    let attempts = 0;
    const delivered: boolean[] = [];
    manager.onChange((c) => {
      attempts++;
      if (attempts === 1) throw new Error("API server unavailable");
      delivered.push(c.caChanged);
    });
    await manager.refresh();
    assert.equal(attempts, 1);
    assert.ok(lines().some((l) => l.msg === "certificate change listener failed; retrying at the next poll"));
    await manager.refresh();
    await manager.refresh();
    assert.equal(attempts, 2);
    assert.deepEqual(delivered, [true]);
  });

  it("with issuing off, fails on an empty store and uses an expiring bundle with a warning", async () => {
    const store = new MemoryStore();
    const { log, lines } = collectingLogger();
    const watchOnly = new CertManager({ store, ...names, log, issue: false });
    await assert.rejects(watchOnly.refresh(), /no usable certificate in memory: no certificate stored/);
    const bundle = await generateCertBundle({ ...names, keyBits: 1024, servingValidityDays: 5 });
    store.bundle = bundle;
    assert.deepEqual(await watchOnly.refresh(), bundle);
    assert.equal(store.saves, 0);
    assert.ok(lines().some((l) => l.msg === "serving certificate needs renewal, but issuing is disabled"));
  });

  it("adopts the winner's bundle when another replica saved first", async () => {
    const winner = await generateCertBundle({ ...names, keyBits: 1024 });
    let loads = 0;
    const racing: CertStore = {
      description: "racing",
      load: async () => (loads++ === 0 ? null : winner),
      save: async () => {
        throw new CertStoreConflict("someone else wrote");
      },
    };
    const manager = new CertManager({ store: racing, ...names, log: quietLogger(), keyBits: 1024 });
    assert.deepEqual(await manager.refresh(), winner);
  });
});

describe("SecretCertStore", function () {
  this.timeout(20_000);
  let bundle: CertBundle;
  before(async () => {
    bundle = await generateCertBundle({ ...names, keyBits: 1024 });
  });
  const ref = "v1/Secret/aviary-system/aviary-webhook-certs";

  it("creates a kubernetes.io/tls Secret and reads it back", async () => {
    const kube = new FakeKube();
    const store = new SecretCertStore(kube, { namespace: "aviary-system", name: "aviary-webhook-certs" });
    assert.equal(await store.load(), null);
    await store.save(bundle);
    const secret = kube.objects.get(ref);
    assert.equal(secret?.type, "kubernetes.io/tls");
    assert.deepEqual(Object.keys(secret?.data as object).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"]);
    assert.equal(Buffer.from((secret?.data as Record<string, string>)["tls.crt"] ?? "", "base64").toString(), bundle.cert);
    assert.deepEqual(await new SecretCertStore(kube, { namespace: "aviary-system", name: "aviary-webhook-certs" }).load(), bundle);
  });

  it("fills the empty Secret the manifests ship, keeping its type and labels", async () => {
    const kube = new FakeKube();
    kube.put({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "aviary-webhook-certs", namespace: "aviary-system", labels: { app: "aviary" } },
      type: "kubernetes.io/tls",
      data: { "tls.crt": "", "tls.key": "" },
    });
    const store = new SecretCertStore(kube, { namespace: "aviary-system", name: "aviary-webhook-certs" });
    assert.equal(await store.load(), null);
    await store.save(bundle);
    assert.deepEqual(kube.calls.filter((c) => c.verb !== "get").map((c) => `${c.verb} ${c.key}`), [`replace ${ref}`]);
    assert.deepEqual(kube.objects.get(ref)?.metadata.labels, { app: "aviary" });
    assert.deepEqual(await store.load(), bundle);
  });

  it("reports a concurrent write as CertStoreConflict, and two replicas end on one bundle", async () => {
    const kube = new FakeKube();
    const opts = { namespace: "aviary-system", name: "aviary-webhook-certs" };
    const a = new CertManager({ store: new SecretCertStore(kube, opts), ...names, log: quietLogger(), keyBits: 1024 });
    const b = new CertManager({ store: new SecretCertStore(kube, opts), ...names, log: quietLogger(), keyBits: 1024 });
    const [ba, bb] = await Promise.all([a.refresh(), b.refresh()]);
    assert.deepEqual(ba, bb);
    assert.equal(kube.calls.filter((c) => c.verb === "create").length, 2, "both tried; one lost with AlreadyExists");

    const store = new SecretCertStore(kube, opts);
    await store.load();
    kube.put({ ...kube.objects.get(ref)!, data: {} });
    await assert.rejects(store.save(bundle), CertStoreConflict);
  });
});

describe("patchWebhookCaBundles", () => {
  const config = (kind: string, name: string, webhooks: Array<Record<string, unknown>>) => ({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind,
    metadata: { name },
    webhooks,
  });
  const entries = () => [
    { name: "deployments.aviary.dev", clientConfig: { service: { name: "aviary-webhook", namespace: "aviary-system", path: "/mutate/deployments" } } },
    { name: "other.aviary.dev", clientConfig: { url: "https://127.0.0.1:9443/validate/canaries", caBundle: "b2xk" } },
  ];

  it("writes the CA into every webhook of the named configurations, once", async () => {
    const kube = new FakeKube();
    kube.put(config("MutatingWebhookConfiguration", "aviary", entries()));
    kube.put(config("ValidatingWebhookConfiguration", "aviary", entries()));
    const names = { mutating: ["aviary"], validating: ["aviary", "aviary-missing"] };
    const results = await patchWebhookCaBundles(kube, names, "CA PEM");
    assert.deepEqual(results.map((r) => `${r.kind}/${r.name}: ${r.outcome}`), [
      "MutatingWebhookConfiguration/aviary: patched",
      "ValidatingWebhookConfiguration/aviary: patched",
      "ValidatingWebhookConfiguration/aviary-missing: missing",
    ]);
    const caBundle = Buffer.from("CA PEM").toString("base64");
    const stored = kube.objects.get("admissionregistration.k8s.io/v1/MutatingWebhookConfiguration//aviary")?.webhooks as Array<{ clientConfig: Record<string, unknown> }>;
    assert.deepEqual(stored.map((w) => w.clientConfig.caBundle), [caBundle, caBundle]);
    assert.deepEqual(stored[0]?.clientConfig.service, { name: "aviary-webhook", namespace: "aviary-system", path: "/mutate/deployments" });
    assert.deepEqual((await patchWebhookCaBundles(kube, names, "CA PEM")).map((r) => r.outcome), ["unchanged", "unchanged", "missing"]);
  });

  it("re-reads and retries after a write conflict instead of overwriting", async () => {
    const kube = new FakeKube();
    kube.put(config("ValidatingWebhookConfiguration", "aviary", entries()));
    let raced = false;
    kube.before = (verb, key) => {
      if (raced || verb === "get") return;
      raced = true;
      const current = kube.objects.get(key)!;
      kube.put({ ...current, webhooks: [...(current.webhooks as unknown[]), { name: "added.by.someone", clientConfig: {} }] });
    };
    const [result] = await patchWebhookCaBundles(kube, { mutating: [], validating: ["aviary"] }, "CA");
    assert.equal(result?.outcome, "patched");
    const webhooks = kube.objects.get("admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration//aviary")?.webhooks as Array<{ name: string; clientConfig: { caBundle?: string } }>;
    assert.deepEqual(webhooks.map((w) => w.name), ["deployments.aviary.dev", "other.aviary.dev", "added.by.someone"]);
    assert.ok(webhooks.every((w) => w.clientConfig.caBundle === Buffer.from("CA").toString("base64")));
  });
});
