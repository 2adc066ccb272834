import assert from "node:assert/strict";
import { PERSISTENT_FAILURES, reconcileFailureLevel } from "../../../src/controller/failure-level.ts";
import { RevisionMovedError } from "../../../src/controller/canary/apply.ts";
import { KubeApiError } from "../../../src/kube/types.ts";

describe("reconcile failure log level", () => {
  const expected = [
    new KubeApiError("conflict", 409, "Conflict"),
    new KubeApiError("not found", 404, "NotFound"),
    new KubeApiError("unavailable", 503, "ServiceUnavailable"),
    new KubeApiError("throttled", 429, "TooManyRequests"),
    new KubeApiError('services "podinfo-canary" is forbidden: unable to create new content in namespace x because it is being terminated', 403, "Forbidden"),
    new RevisionMovedError("moved during promotion"),
  ];

  it("logs the expected failures of a level-triggered controller as warnings", () => {
    for (const err of expected) assert.equal(reconcileFailureLevel(err, 1), "warn", err.message);
  });

  it("logs an error when the same key keeps failing", () => {
    for (const err of expected) assert.equal(reconcileFailureLevel(err, PERSISTENT_FAILURES), "error", err.message);
  });

  it("logs an error at once for what needs a person: a denied request, a bug", () => {
    assert.equal(reconcileFailureLevel(new KubeApiError("forbidden by RBAC", 403, "Forbidden"), 1), "error");
    assert.equal(reconcileFailureLevel(new TypeError("x is undefined"), 1), "error");
  });
});
