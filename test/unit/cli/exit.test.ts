import assert from "node:assert/strict";
import { describe, it } from "mocha";
import { CliError, describeFailure, exitCodeForPhase, UsageError } from "../../../src/cli/exit.ts";
import { KubeApiError } from "../../../src/kube/types.ts";

describe("cli exit codes", () => {
  it("fails status only for a Failed run", () => {
    assert.equal(exitCodeForPhase("Failed"), 1);
    for (const phase of ["Initialized", "Progressing", "Succeeded", "WaitingPromotion", undefined] as const) assert.equal(exitCodeForPhase(phase), 0);
  });

  it("keeps the code a CliError carries", () => {
    assert.deepEqual(describeFailure(new UsageError("bad")), { message: "bad", exitCode: 2 });
    assert.deepEqual(describeFailure(new CliError("gone", 3)), { message: "gone", exitCode: 3 });
  });

  it("maps every API failure to 3, with a hint where one helps", () => {
    const noCrd = describeFailure(new KubeApiError('no matches for kind "Canary"', 404, "NoKindMatch"));
    assert.equal(noCrd.exitCode, 3);
    assert.match(noCrd.message, /not served by this cluster: install aviary's CRDs/);
    const forbidden = describeFailure(new KubeApiError("patch Canary aviary.dev/v1beta1 a/b: forbidden (HTTP 403 Forbidden)", 403, "Forbidden"));
    assert.deepEqual(forbidden, { message: "not allowed (RBAC decides who may do this): patch Canary aviary.dev/v1beta1 a/b: forbidden (HTTP 403 Forbidden)", exitCode: 3 });
    assert.match(describeFailure(new KubeApiError("get x: fetch failed: ECONNREFUSED", 0, "ConnectionError")).message, /^the API server could not be reached: /);
    assert.match(describeFailure(new KubeApiError("nope", 401, "Unauthorized")).message, /did not accept the kubeconfig's credentials/);
    assert.deepEqual(describeFailure(new Error("boom")), { message: "boom", exitCode: 3 });
  });
});
