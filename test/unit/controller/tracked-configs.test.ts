import assert from "node:assert/strict";
import type { Canary } from "../../../src/api/types.ts";
import { secretHashing } from "../../../src/controller/canary/tracked-configs.ts";
import type { TrackedContent } from "../../../src/controller/canary/tracked-configs.ts";
import { hashConfigData, revisionOf } from "../../../src/ground/hash.ts";
import { hashKeyId } from "../../../src/kube/hash-key.ts";
import type { HashKeys } from "../../../src/kube/hash-key.ts";
import { plan } from "../../../src/controller/canary/planner/plan.ts";
import { initialized, makeCanary, observe } from "./planner/plan-world.ts";

const UID = "7c1e7a4e-0b1f-4a53-9c5e-3f1f6b9e2a10";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const key = (text: string) => ({ id: hashKeyId(text), key: text });
const KEY_A = key("first-key-bytes-aaaaaaaaaaaaaaaaaaaaaaaa");
const KEY_B = key("second-key-bytes-bbbbbbbbbbbbbbbbbbbbbbb");

function canaryWith(status: Canary["status"]): Canary {
  return { apiVersion: "aviary.dev/v1beta1", kind: "Canary", metadata: { name: "podinfo", namespace: "test", uid: UID }, spec: { targetRef: { name: "podinfo" }, service: { port: 80 } }, status } as Canary;
}
const secret = (pin: string): TrackedContent => ({ key: "Secret/podinfo-secret", kind: "Secret", obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "podinfo-secret" }, data: { PIN: b64(pin) } } });

/** Tries every 4-digit PIN against the status hash, with what a reader of the Canary knows. */
function bruteForce(statusValue: string): string | undefined {
  const hash = statusValue.includes(":") ? statusValue.slice(statusValue.indexOf(":") + 1) : statusValue;
  for (let n = 0; n < 10_000; n++) {
    const guess = String(n).padStart(4, "0");
    const data = { data: { PIN: b64(guess) } };
    if (hashConfigData(data, { key: UID }) === hash || hashConfigData(data) === hash) return guess;
  }
  return undefined;
}

describe("tracked configs: Secret hashes", () => {
  it("a 4-digit Secret cannot be recovered from the status by someone who knows the Canary's uid", () => {
    const { trackedConfigs } = secretHashing(canaryWith({}), [secret("4821")], "tmpl", { current: KEY_A });
    const value = trackedConfigs["Secret/podinfo-secret"]!;
    assert.match(value, new RegExp(`^${KEY_A.id}:[0-9a-f]{16}$`));
    assert.equal(bruteForce(value), undefined);
  });

  it("(the same search recovers it from a hash keyed with the uid, as statuses were before)", () => {
    const { trackedConfigs } = secretHashing(canaryWith({}), [secret("4821")], "tmpl", undefined);
    assert.equal(bruteForce(trackedConfigs["Secret/podinfo-secret"]!), "4821");
  });

});

describe("tracked configs: key rotation", () => {
  const content = [secret("4821")];
  const statusUnder = (keys: HashKeys | undefined, phase: "Succeeded" | "Progressing") => {
    const { trackedConfigs } = secretHashing(canaryWith({}), content, "tmpl", keys);
    const rev = revisionOf("tmpl", trackedConfigs);
    return { phase, lastAppliedSpec: rev, lastPromotedSpec: rev, trackedConfigs };
  };

  it("re-keys an idle Canary: same content under the new key, and the older revision it had", () => {
    const before = statusUnder({ current: KEY_A }, "Succeeded");
    const h = secretHashing(canaryWith(before), content, "tmpl", { current: KEY_B, previous: KEY_A });
    assert.equal(h.rekeyedFrom, before.lastAppliedSpec);
    assert.match(h.trackedConfigs["Secret/podinfo-secret"]!, new RegExp(`^${KEY_B.id}:`));
  });

  it("re-keys bare hashes made with the uid (statuses written before aviary had its own key)", () => {
    const before = statusUnder(undefined, "Succeeded");
    const h = secretHashing(canaryWith(before), content, "tmpl", { current: KEY_B });
    assert.equal(h.rekeyedFrom, before.lastAppliedSpec);
  });

  it("a Canary in a run keeps the key its run started with", () => {
    const before = { ...statusUnder({ current: KEY_A }, "Progressing"), lastPromotedSpec: "older" };
    const h = secretHashing(canaryWith(before), content, "tmpl", { current: KEY_B, previous: KEY_A });
    assert.equal(h.rekeyedFrom, undefined);
    assert.deepEqual(h.trackedConfigs, before.trackedConfigs);
  });

  it("a content change during a rotation is a revision, not a re-keying", () => {
    const before = statusUnder({ current: KEY_A }, "Succeeded");
    const h = secretHashing(canaryWith(before), [secret("9999")], "tmpl", { current: KEY_B, previous: KEY_A });
    assert.equal(h.rekeyedFrom, undefined);
  });

  it("plan moves an idle Canary to the re-keyed revision without a run or an event", () => {
    const w = initialized(makeCanary({ stepWeight: 20 }));
    const o = observe(w);
    const from = o.revision;
    o.revision = "rekeyed";
    o.rekeyedFrom = from;
    const p = plan(o);
    assert.equal(p.kind, "act");
    if (p.kind !== "act") return;
    assert.deepEqual(p.actions.filter((a) => a.type === "event"), []);
    assert.equal(p.status.lastAppliedSpec, "rekeyed");
    assert.equal(p.status.lastPromotedSpec, "rekeyed");
    assert.equal(p.status.phase, "Initialized");
  });
});
