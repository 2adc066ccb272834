import assert from "node:assert/strict";
import {
  apiErrorFromException,
  apiErrorFromResponse,
  describeRef,
  isGone,
  isNoKindMatch,
  isObjectNotFound,
  noKindMatch,
  parseStatusBody,
} from "../../../src/kube/errors.ts";
import { crdName, parseResourceList, splitApiVersion } from "../../../src/kube/discovery.ts";
import { isNotFound, KubeApiError } from "../../../src/kube/types.ts";

describe("kube errors and discovery helpers", () => {
  it("parses a Status body and nothing else", () => {
    assert.deepEqual(parseStatusBody(JSON.stringify({ kind: "Status", reason: "NotFound", code: 404 })), { kind: "Status", reason: "NotFound", code: 404 });
    assert.equal(parseStatusBody(JSON.stringify({ kind: "ConfigMap" })), undefined);
    assert.equal(parseStatusBody("<html>"), undefined);
    assert.equal(parseStatusBody(""), undefined);
  });

  it("takes the reason and message from the Status, falling back on the HTTP status", () => {
    const fromStatus = apiErrorFromResponse("get X v1 ns/a", 422, JSON.stringify({ kind: "Status", reason: "Invalid", message: "spec.x: Required value" }));
    assert.equal(fromStatus.message, "get X v1 ns/a: spec.x: Required value (HTTP 422 Invalid)");
    assert.equal(fromStatus.retryable, false);
    const bare = apiErrorFromResponse("get X v1 ns/a", 503, "");
    assert.equal(bare.reason, "ServiceUnavailable");
    assert.equal(bare.retryable, true);
    assert.match(bare.message, /HTTP 503/);
    assert.equal(apiErrorFromResponse("a", 599, "").reason, "InternalError");
    assert.equal(apiErrorFromResponse("a", 418, "teapot").reason, "Unknown");
    assert.match(apiErrorFromResponse("a", 502, "x".repeat(1000)).message, /^a: x{300} \(HTTP 502/);
  });

  it("classifies failures without a response", () => {
    assert.equal(apiErrorFromException("a", new Error("x"), true, false).reason, "Timeout");
    assert.equal(apiErrorFromException("a", new Error("x"), false, true).reason, "Aborted");
    const refused = Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }) });
    const err = apiErrorFromException("get X", refused, false, false);
    assert.equal(err.reason, "ConnectionError");
    assert.equal(err.status, 0);
    assert.equal(err.retryable, true);
    assert.equal(err.message, "get X: fetch failed: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:1");
    const original = new KubeApiError("kept", 409, "Conflict");
    assert.equal(apiErrorFromException("a", original, true, true), original);
  });

  it("tells a missing kind from a missing object", () => {
    const kind = noKindMatch("appmesh.k8s.aws/v1beta2", "VirtualRouter");
    const object = new KubeApiError("not found", 404, "NotFound");
    assert.ok(isNoKindMatch(kind) && !isObjectNotFound(kind) && isNotFound(kind));
    assert.ok(!isNoKindMatch(object) && isObjectNotFound(object));
    assert.ok(isGone(new KubeApiError("expired", 410, "Expired")));
    assert.ok(!isGone(object));
  });

  it("describes references", () => {
    assert.equal(describeRef({ apiVersion: "apps/v1", kind: "Deployment", namespace: "ns", name: "web" }), "Deployment apps/v1 ns/web");
    assert.equal(describeRef({ apiVersion: "v1", kind: "Namespace", name: "ns" }), "Namespace v1 ns");
    assert.equal(describeRef({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns" }), "ConfigMap v1 in ns");
    assert.equal(describeRef({ apiVersion: "v1", kind: "ConfigMap" }), "ConfigMap v1 (all namespaces)");
  });

  it("reads an APIResourceList with subresources", () => {
    const byKind = parseResourceList("apps/v1", {
      resources: [
        { name: "deployments", namespaced: true, kind: "Deployment", verbs: ["get"] },
        { name: "deployments/scale", namespaced: true, kind: "Scale" },
        { name: "deployments/status", namespaced: true, kind: "Deployment" },
        { name: "controllerrevisions", namespaced: true, kind: "ControllerRevision" },
      ],
    });
    assert.deepEqual(byKind.get("Deployment"), {
      apiVersion: "apps/v1", group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true, subresources: ["scale", "status"], verbs: ["get"],
    });
    assert.deepEqual(byKind.get("ControllerRevision")?.subresources, []);
    assert.equal(byKind.has("Scale"), false, "subresource kinds are not top-level kinds");
  });

  it("splits apiVersions and names CRDs", () => {
    assert.deepEqual(splitApiVersion("v1"), { group: "", version: "v1" });
    assert.deepEqual(splitApiVersion("gateway.networking.k8s.io/v1"), { group: "gateway.networking.k8s.io", version: "v1" });
    assert.equal(crdName("appmesh.k8s.aws", "virtualrouters"), "virtualrouters.appmesh.k8s.aws");
  });
});
