import assert from "node:assert/strict";
import { canonicalJson, HASH_HEX_LENGTH, hashConfigData, hashPodTemplate, revisionOf, shortHash } from "../../../src/ground/hash.ts";

const template = () => ({
  metadata: { labels: { app: "podinfo" }, annotations: { "prometheus.io/scrape": "true" } },
  spec: {
    containers: [
      { name: "app", image: "ghcr.io/stefanprodan/podinfo:6.0.0", ports: [{ containerPort: 9898, protocol: "TCP" }] },
      { name: "sidecar", image: "busybox:1.36" },
    ],
    volumes: [{ name: "cache", emptyDir: {} }],
  },
});

describe("revision hashes", () => {
  describe("canonicalJson", () => {
    it("sorts object keys at every depth and keeps array order", () => {
      assert.equal(canonicalJson({ b: 1, a: { d: [3, 1], c: "x" } }), '{"a":{"c":"x","d":[3,1]},"b":1}');
    });
    it("drops null and undefined members but keeps empty objects and arrays", () => {
      assert.equal(canonicalJson({ a: null, b: undefined, c: {}, d: [] }), '{"c":{},"d":[]}');
    });
    it("keeps nulls inside arrays, where position matters", () => {
      assert.equal(canonicalJson([1, null]), "[1,null]");
    });
    it("refuses bigint instead of hashing something arbitrary", () => {
      assert.throws(() => canonicalJson({ n: 1n }), TypeError);
    });
  });

  describe("hashPodTemplate", () => {
    it("is short lowercase hex", () => {
      assert.match(hashPodTemplate(template()), new RegExp(`^[0-9a-f]{${HASH_HEX_LENGTH}}$`));
    });
    it("does not depend on key order", () => {
      const t = template();
      const reordered = {
        spec: { volumes: t.spec.volumes, containers: t.spec.containers.map((c) => Object.fromEntries(Object.entries(c).reverse())) },
        metadata: { annotations: t.metadata.annotations, labels: t.metadata.labels },
      };
      assert.equal(hashPodTemplate(reordered), hashPodTemplate(template()));
    });
    it("changes with the image, the container order and an emptyDir", () => {
      const base = hashPodTemplate(template());
      const image = template();
      image.spec.containers[0]!.image = "ghcr.io/stefanprodan/podinfo:6.0.1";
      assert.notEqual(hashPodTemplate(image), base);
      const order = template();
      order.spec.containers.reverse();
      assert.notEqual(hashPodTemplate(order), base);
      const noVolume = template() as { spec: { volumes?: unknown } };
      delete noVolume.spec.volumes;
      assert.notEqual(hashPodTemplate(noVolume), base);
    });
    it("treats kubectl rollout restart as a new revision", () => {
      const restarted = template();
      (restarted.metadata.annotations as Record<string, string>)["kubectl.kubernetes.io/restartedAt"] = "2025-01-01T00:00:00Z";
      assert.notEqual(hashPodTemplate(restarted), hashPodTemplate(template()));
    });
    it("ignores aviary's own annotations and labels and a null creationTimestamp", () => {
      const stamped = template() as ReturnType<typeof template> & { metadata: { creationTimestamp?: null } };
      (stamped.metadata.annotations as Record<string, string>)["aviary.dev/revision"] = "abc";
      (stamped.metadata.labels as Record<string, string>)["aviary.dev/canary"] = "podinfo";
      stamped.metadata.creationTimestamp = null;
      assert.equal(hashPodTemplate(stamped), hashPodTemplate(template()));
    });
    it("ignores the node selector that parks a DaemonSet, but not the user's own node selector", () => {
      const withSelector = (nodeSelector: Record<string, string>) => ({ ...template(), spec: { ...template().spec, nodeSelector } });
      assert.equal(hashPodTemplate(withSelector({ "aviary.dev/scale-to-zero": "true" })), hashPodTemplate(template()));
      assert.equal(hashPodTemplate(withSelector({ disk: "ssd", "aviary.dev/scale-to-zero": "true" })), hashPodTemplate(withSelector({ disk: "ssd" })));
      assert.notEqual(hashPodTemplate(withSelector({ disk: "ssd" })), hashPodTemplate(template()));
      const parked = withSelector({ "aviary.dev/scale-to-zero": "true" });
      const before = structuredClone(parked);
      hashPodTemplate(parked);
      assert.deepEqual(parked, before, "the input keeps its selector");
    });
    it("does not mutate its input", () => {
      const t = template() as ReturnType<typeof template> & { metadata: { creationTimestamp?: null } };
      t.metadata.creationTimestamp = null;
      (t.metadata.annotations as Record<string, string>)["aviary.dev/revision"] = "abc";
      const before = structuredClone(t);
      hashPodTemplate(t);
      assert.deepEqual(t, before);
    });
  });

  describe("hashConfigData", () => {
    it("does not depend on key order", () => {
      assert.equal(hashConfigData({ data: { a: "1", b: "2" } }), hashConfigData({ data: { b: "2", a: "1" } }));
    });
    it("changes with a value, and tells data from binaryData", () => {
      assert.notEqual(hashConfigData({ data: { a: "1" } }), hashConfigData({ data: { a: "2" } }));
      assert.notEqual(hashConfigData({ data: { a: "MQ==" } }), hashConfigData({ binaryData: { a: "MQ==" } }));
    });
    it("hashes absent and empty content alike", () => {
      assert.equal(hashConfigData({}), hashConfigData({ data: {}, binaryData: null }));
    });
    it("is an HMAC with a key: different from the plain hash and stable", () => {
      const plain = hashConfigData({ data: { pin: "MTIzNA==" } });
      const keyed = hashConfigData({ data: { pin: "MTIzNA==" } }, { key: "k1" });
      assert.notEqual(keyed, plain);
      assert.equal(hashConfigData({ data: { pin: "MTIzNA==" } }, { key: "k1" }), keyed);
      assert.notEqual(hashConfigData({ data: { pin: "MTIzNA==" } }, { key: "k2" }), keyed);
      assert.equal(shortHash("x", { key: "k1" }).length, HASH_HEX_LENGTH);
    });
  });

  describe("revisionOf", () => {
    const t = hashPodTemplate(template());
    it("is the template hash itself when no config is referenced", () => {
      assert.equal(revisionOf(t, {}), t);
    });
    it("combines the template with the config hashes, in any key order", () => {
      const a = revisionOf(t, { "ConfigMap/app": "1111", "Secret/db": "2222" });
      assert.equal(revisionOf(t, { "Secret/db": "2222", "ConfigMap/app": "1111" }), a);
      assert.notEqual(a, t);
      assert.match(a, new RegExp(`^[0-9a-f]{${HASH_HEX_LENGTH}}$`));
    });
    it("changes when only a config changes, or only the template", () => {
      const a = revisionOf(t, { "ConfigMap/app": "1111" });
      assert.notEqual(revisionOf(t, { "ConfigMap/app": "3333" }), a);
      assert.notEqual(revisionOf("0000000000000000", { "ConfigMap/app": "1111" }), a);
      assert.notEqual(revisionOf(t, { "ConfigMap/other": "1111" }), a);
    });
  });
});
