import assert from "node:assert/strict";
import { buildAlertMessage, plainText } from "../../../src/notifier/message.ts";
import { CHECK_FAILED, NOW, canaryWith } from "./fixtures.ts";

const fieldsOf = (m: { fields: Array<{ name: string; value: string }> }) => Object.fromEntries(m.fields.map((f) => [f.name, f.value]));

describe("notifier/message", () => {
  it("says which Canary, what happened and why for a failed check, with the fields on-call looks for", () => {
    const m = buildAlertMessage(canaryWith(), CHECK_FAILED, NOW);
    assert.equal(m.title, "test/podinfo: check failed for revision 7c9f6d (1/2)");
    assert.equal(m.text, "Analysis failed (1/2): request-success-rate 93.1% < 99%");
    assert.deepEqual(m.failedCheckDetails, ["request-success-rate 93.1% < 99%"]);
    assert.deepEqual(fieldsOf(m), {
      Canary: "test/podinfo",
      Phase: "Progressing",
      Traffic: "canary 20% / primary 80%",
      "Failed checks": "1/2",
      Revision: "7c9f6d",
      "Changed by": "alice@example.com",
    });
    assert.equal(m.severity, "warn");
    assert.equal(m.timestamp, "2025-03-01T12:00:00.000Z");
    assert.deepEqual(m.canary, { namespace: "test", name: "podinfo" });
  });

  it("names the new revision and who made it", () => {
    const canary = canaryWith([], { phase: "Progressing", canaryWeight: 0, failedChecks: 0, lastAnalysis: [] });
    const m = buildAlertMessage(
      canary,
      { reason: "NewRevision", message: "new revision 9a8b of podinfo detected: starting a canary run", severity: "info", changedBy: "bob", revision: "9a8b" },
      NOW,
    );
    assert.equal(m.title, "test/podinfo: new revision 9a8b by bob, starting a canary run");
    assert.equal(m.revision, "9a8b");
    assert.equal(m.changedBy, "bob");
    assert.deepEqual(m.failedCheckDetails, []);
    assert.equal(m.text, "New revision 9a8b of podinfo detected: starting a canary run");
  });

  it("reports each weight step with the new weight", () => {
    const m = buildAlertMessage(
      canaryWith([], { canaryWeight: 30, failedChecks: 0, lastAnalysis: [] }),
      { reason: "WeightAdvanced", message: "canary weight 20% -> 30% for revision 7c9f6d", severity: "info" },
      NOW,
    );
    assert.equal(m.title, "test/podinfo: canary weight 30% for revision 7c9f6d");
    assert.equal(fieldsOf(m).Traffic, "canary 30% / primary 70%");
    assert.equal(fieldsOf(m)["Changed by"], undefined);
  });

  it("lists failed checks the event message leaves out, built from value and range when they have no sentence", () => {
    const canary = canaryWith([], {
      phase: "Failed",
      canaryWeight: 0,
      failedChecks: 2,
      lastAnalysis: [
        { name: "request-success-rate", kind: "metric", value: 93.1, min: 99, verdict: "fail", message: "request-success-rate 93.1% < 99%", time: NOW.toISOString() },
        { name: "latency", kind: "metric", value: 812, max: 500, verdict: "fail", message: "", time: NOW.toISOString() },
        { name: "errors", kind: "metric", verdict: "nodata", message: "no data for errors (onNoData=fail): empty result", time: NOW.toISOString() },
        { name: "smoke", kind: "webhook", verdict: "skip", message: "smoke skipped", time: NOW.toISOString() },
      ],
    });
    const m = buildAlertMessage(
      canary,
      { reason: "RolledBack", message: "rolled back revision 7c9f6d: 2 failed checks reached the threshold of 2: request-success-rate 93.1% < 99%", severity: "error" },
      NOW,
    );
    assert.equal(m.title, "test/podinfo: revision 7c9f6d rolled back");
    assert.deepEqual(m.failedCheckDetails, [
      "request-success-rate 93.1% < 99%",
      "latency = 812 (max 500): fail",
      "no data for errors (onNoData=fail): empty result",
    ]);
    assert.equal(
      m.text,
      "Rolled back revision 7c9f6d: 2 failed checks reached the threshold of 2: request-success-rate 93.1% < 99%\n" +
        "• latency = 812 (max 500): fail\n" +
        "• no data for errors (onNoData=fail): empty result",
    );
    assert.equal(m.phase, "Failed");
  });

  it("announces a promotion", () => {
    const m = buildAlertMessage(
      canaryWith([], { phase: "Succeeded", canaryWeight: 0, failedChecks: 0, lastAnalysis: [] }),
      { reason: "Promoted", message: "revision 7c9f6d promoted: podinfo-primary runs it and receives all traffic", severity: "info" },
      NOW,
    );
    assert.equal(m.title, "test/podinfo: revision 7c9f6d promoted");
    assert.equal(plainText(m), "test/podinfo: revision 7c9f6d promoted\nRevision 7c9f6d promoted: podinfo-primary runs it and receives all traffic");
  });

  it("falls back to the last applied revision, then to words, and humanizes unknown reasons", () => {
    const fromSpec = buildAlertMessage(canaryWith([], { canaryRevision: undefined, lastAppliedSpec: "55aa" }), { reason: "Promoting", message: "x", severity: "info" }, NOW);
    assert.equal(fromSpec.title, "test/podinfo: promoting revision 55aa");
    const none = buildAlertMessage(canaryWith([], { canaryRevision: undefined }), { reason: "CheckHalted", message: "x", severity: "warn" }, NOW);
    assert.equal(none.title, "test/podinfo: checks for the revision could not run");
    assert.equal(none.revision, undefined);
    assert.ok(!none.fields.some((f) => f.name === "Revision"));
    const odd = buildAlertMessage(canaryWith(), { reason: "SomethingNewHappened", message: "x", severity: "info" }, NOW);
    assert.equal(odd.title, "test/podinfo: something new happened");
  });

  it("passes event metadata through and tolerates a Canary without status", () => {
    const canary = canaryWith();
    delete canary.status;
    const m = buildAlertMessage(canary, { reason: "Initialized", message: "", severity: "info", metadata: { team: "payments" } }, NOW);
    assert.deepEqual(m.metadata, { team: "payments" });
    assert.equal(m.phase, undefined);
    assert.equal(m.weight, 0);
    assert.equal(m.text, "");
    assert.equal(fieldsOf(m).Phase, "Unknown");
  });
});
