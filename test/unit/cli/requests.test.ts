import assert from "node:assert/strict";
import { describe, it } from "mocha";
import type { CanaryPhase } from "../../../src/api/types.ts";
import { decideRequest } from "../../../src/cli/requests.ts";
import type { RequestKind } from "../../../src/cli/requests.ts";
import { canary } from "./fixtures.ts";

const now = new Date("2026-01-02T12:00:00Z");
const STAMP = "2026-01-02T12:00:00.000Z";

/** Which phases the controller acts on each one-shot request in (src/controller/canary/planner/plan.ts). */
const ACCEPTED: Record<"promote" | "abort" | "retry", CanaryPhase[]> = {
  promote: ["Waiting", "Progressing", "WaitingPromotion"],
  abort: ["Waiting", "Progressing", "WaitingPromotion"],
  retry: ["Failed"],
};
const PHASES: (CanaryPhase | undefined)[] = [undefined, "Initializing", "Initialized", "Waiting", "Progressing", "WaitingPromotion", "Promoting", "Finalising", "Succeeded", "Failed"];

describe("cli requests", () => {
  for (const request of ["promote", "abort", "retry"] as const) {
    it(`${request} writes its annotation only in the phases the controller acts on it`, () => {
      for (const phase of PHASES) {
        const d = decideRequest(request, canary(phase ? { phase } : undefined), now);
        if (phase !== undefined && ACCEPTED[request].includes(phase)) {
          assert.equal(d.kind, "write", `${request} in ${phase}`);
          if (d.kind === "write") assert.deepEqual(d.patch, { metadata: { annotations: { [`aviary.dev/${request}`]: STAMP } } });
        } else {
          assert.equal(d.kind, "refuse", `${request} in ${phase}`);
          if (d.kind === "refuse") assert.match(d.reason, new RegExp(`^cannot ${request} shop/podinfo: .*\\(phase ${phase ?? "\\(no status\\)"}\\)$`));
        }
      }
    });
  }

  it("says what promote does in each phase", () => {
    const said = (phase: CanaryPhase) => {
      const d = decideRequest("promote", canary({ phase, canaryRevision: "abc" }), now);
      return d.kind === "write" ? d.done : d.kind;
    };
    assert.match(said("Waiting"), /confirm-rollout gate opens/);
    assert.match(said("Progressing"), /remaining steps are skipped and revision abc is promoted/);
    assert.match(said("WaitingPromotion"), /confirm-promotion gate opens/);
  });

  it("explains a refusal in terms of the phase", () => {
    const reason = (request: RequestKind, phase: CanaryPhase) => {
      const d = decideRequest(request, canary({ phase }), now);
      return d.kind === "refuse" ? d.reason : d.kind;
    };
    assert.equal(reason("promote", "Succeeded"), "cannot promote shop/podinfo: no run is in progress (phase Succeeded)");
    assert.equal(reason("abort", "Promoting"), "cannot abort shop/podinfo: the promotion is already under way (phase Promoting)");
    assert.equal(reason("retry", "Progressing"), "cannot retry shop/podinfo: only a Failed canary can be retried (phase Progressing)");
    assert.equal(reason("promote", "Initializing"), "cannot promote shop/podinfo: the Canary is still initializing (phase Initializing)");
  });

  it("pauses with the string true and resumes by removing the annotation", () => {
    const pause = decideRequest("pause", canary({ phase: "Progressing" }), now);
    assert.equal(pause.kind, "write");
    if (pause.kind === "write") {
      assert.deepEqual(pause.patch, { metadata: { annotations: { "aviary.dev/paused": "true" } } });
      assert.match(pause.done, /the run holds at its current step/);
    }
    const idle = decideRequest("pause", canary({ phase: "Succeeded" }), now);
    assert.ok(idle.kind === "write" && /the next revision waits/.test(idle.done));
    const resume = decideRequest("resume", canary({ phase: "Progressing" }, { annotations: { "aviary.dev/paused": "true" } }), now);
    assert.ok(resume.kind === "write");
    if (resume.kind === "write") assert.deepEqual(resume.patch, { metadata: { annotations: { "aviary.dev/paused": null } } });
  });

  it("leaves a paused canary paused and an unpaused one alone", () => {
    assert.deepEqual(decideRequest("pause", canary({}, { annotations: { "aviary.dev/paused": "true" } }), now), { kind: "unchanged", done: "shop/podinfo is already paused" });
    assert.deepEqual(decideRequest("resume", canary({}), now), { kind: "unchanged", done: "shop/podinfo is not paused" });
    // A paused annotation with another value still holds nothing, but resume clears it.
    assert.equal(decideRequest("resume", canary({}, { annotations: { "aviary.dev/paused": "false" } }), now).kind, "write");
  });

  it("notes a suspended Canary and a request that replaces a pending one", () => {
    const d = decideRequest("abort", canary({ phase: "Progressing" }, { suspend: true, annotations: { "aviary.dev/abort": "earlier" } }), now);
    assert.equal(d.kind, "write");
    if (d.kind === "write") {
      assert.deepEqual(d.notes, ["spec.suspend is true: the controller acts on this once suspend is cleared", "it replaces a request still pending since earlier"]);
    }
  });

  it("refuses everything but resume on a Canary being deleted", () => {
    const deleting = canary({ phase: "Progressing" }, { annotations: { "aviary.dev/paused": "true" } });
    deleting.metadata.deletionTimestamp = "2026-01-02T11:00:00Z";
    assert.equal(decideRequest("abort", deleting, now).kind, "refuse");
    assert.equal(decideRequest("pause", deleting, now).kind, "refuse");
    assert.equal(decideRequest("resume", deleting, now).kind, "write");
  });
});
