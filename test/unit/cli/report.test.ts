import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { canaryTable, pendingRequests, statusReport } from "../../../src/cli/report.ts";
import { canary } from "./fixtures.ts";

const now = new Date("2026-01-02T12:05:00Z");

describe("cli report: status", () => {
  it("shows phase, traffic, checks, revisions, message and the last analysis", () => {
    const c = canary({
      phase: "Progressing",
      canaryWeight: 30,
      failedChecks: 1,
      lastTransitionTime: "2026-01-02T12:00:00Z",
      canaryRevision: "aaaa",
      lastPromotedSpec: "bbbb",
      conditions: [{ type: "Promoted", status: "Unknown", message: "advancing to 30%" }],
      lastCheckTime: "2026-01-02T12:04:30Z",
      lastAnalysis: [{ name: "request-success-rate", kind: "metric", verdict: "fail", message: "request-success-rate 80% < 99%", time: "2026-01-02T12:04:30Z" }],
    });
    const text = statusReport(c, now, { bar: false });
    assert.match(text, /^Name: +podinfo$/m);
    assert.match(text, /^Namespace: +shop$/m);
    assert.match(text, /^Target: +Deployment\/podinfo$/m);
    assert.match(text, /^Status: +Progressing \(since \d\d:\d\d:\d\d, 5m ago\)$/m);
    assert.match(text, /^Traffic: +canary 30% \| primary 70%$/m);
    assert.match(text, /^Failed checks: +1\/5$/m);
    assert.match(text, /^Revision: +canary aaaa \| promoted bbbb$/m);
    assert.match(text, /^Message: +advancing to 30%$/m);
    assert.match(text, /^Last analysis \(\d\d:\d\d:\d\d, 30s ago\):\n {2}fail {3}request-success-rate 80% < 99%$/m);
    assert.doesNotMatch(text, /Paused|Pending|Suspended|Iterations/);
  });

  it("shows the judge's sentence and how many windows its test has counted", () => {
    const sentence = "request-success-rate: 5xx: canary 2.6% vs primary 0.5% (ratio 5.2, 99% CI 2.4–11) > tolerance 1.2 (e-value 6.2e+14 ≥ 100)";
    const c = canary({
      phase: "Progressing",
      lastCheckTime: "2026-01-02T12:04:30Z",
      lastAnalysis: [{ name: "request-success-rate", kind: "metric", verdict: "fail", message: sentence, time: "2026-01-02T12:04:30Z" }],
      judge: { revision: "aaaa", metrics: { "request-success-rate": { windowEnd: "2026-01-02T12:04:30Z", windows: 3, state: {} } } },
    });
    const text = statusReport(c, now, { bar: false });
    assert.ok(text.includes(`\n  fail   ${sentence}\n`), text);
    assert.match(text, /^Judge \(this run\):\n {2}request-success-rate: 3 windows counted, up to \d\d:\d\d:\d\d$/m);
  });

  it("says when the run is paused, suspended, or has requests waiting for the controller", () => {
    const c = canary({ phase: "Progressing" }, { annotations: { "aviary.dev/paused": "true", "aviary.dev/promote": "2026-01-02T12:04:00Z" }, suspend: true });
    const text = statusReport(c, now, { bar: true });
    assert.match(text, /^Paused: +yes: the run holds until `aviary resume podinfo`$/m);
    assert.match(text, /^Suspended: +yes/m);
    assert.match(text, /^Pending: +promote \(aviary.dev\/promote=2026-01-02T12:04:00Z\)$/m);
    assert.match(text, /^Traffic: +canary 0% \| primary 100% {2}\[░{10}\]$/m);
  });

  it("lists every pending request", () => {
    const c = canary({}, { annotations: { "aviary.dev/abort": "t1", "aviary.dev/retry": "t2", "aviary.dev/paused": "true" } });
    assert.deepEqual(pendingRequests(c), ["abort (aviary.dev/abort=t1)", "retry (aviary.dev/retry=t2)"]);
  });
});

describe("cli report: get table", () => {
  const a = canary({ phase: "Succeeded", canaryWeight: 0, failedChecks: 0, lastTransitionTime: "2026-01-02T10:00:00Z" });
  const b = { ...canary(undefined), metadata: { name: "api", namespace: "alpha" } };

  it("prints kubectl's printer columns sorted by name, blank where there is no status", () => {
    assert.equal(
      canaryTable([a, b], now, { namespaces: false, wide: false }),
      ["NAME      STATUS      WEIGHT   FAILEDCHECKS   LASTTRANSITION", "api", "podinfo   Succeeded   0        0              125m"].join("\n") + "\n",
    );
  });

  it("adds the namespace first with -A and the analysis settings with -o wide", () => {
    const lines = canaryTable([a, b], now, { namespaces: true, wide: true }).split("\n");
    assert.match(lines[0]!, /^NAMESPACE +NAME +STATUS +WEIGHT +FAILEDCHECKS +LASTTRANSITION +TARGET +INTERVAL +MAXWEIGHT +STEPWEIGHT +PROVIDER$/);
    assert.match(lines[1]!, /^alpha +api /);
    assert.match(lines[2]!, /^shop +podinfo +Succeeded +0 +0 +125m +Deployment\/podinfo +1m +50 +10$/);
  });

  it("names the target with its kind, a DaemonSet too", () => {
    const ds = canary({ phase: "Initialized" });
    ds.spec.targetRef = { apiVersion: "apps/v1", kind: "DaemonSet", name: "node-agent" };
    assert.match(canaryTable([ds], now, { namespaces: false, wide: true }).split("\n")[1]!, / DaemonSet\/node-agent /);
    assert.match(statusReport(ds, now, { bar: false }), /^Target: +DaemonSet\/node-agent$/m);
  });

  it("shows the provider the controller reported, which for a Canary without spec.provider is --mesh-provider's", () => {
    const c = canary({ phase: "Initialized", provider: "gatewayapi" });
    delete c.spec.provider;
    assert.match(statusReport(c, now, { bar: false }), /^Provider: +gatewayapi$/m);
    assert.doesNotMatch(statusReport(c, now, { bar: false }), /Ignored/);
    const message = "spec.service.delegation is not supported by provider gatewayapi; ignored";
    const ignoring = canary({ phase: "Initialized", provider: "gatewayapi", conditions: [{ type: "Unsupported", status: "True", reason: "FieldsIgnored", message }] });
    assert.match(statusReport(ignoring, now, { bar: false }), /^Ignored: +spec\.service\.delegation is not supported by provider gatewayapi; ignored$/m);
    assert.match(canaryTable([c], now, { namespaces: false, wide: true }).split("\n")[1]!, / gatewayapi$/);
  });
});
