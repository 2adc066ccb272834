import assert from "node:assert/strict";
import { denied, parseAdmissionReview, toResponse, toReview } from "../../../src/webhook/admission.ts";
import { admissionRequest, deployment, DEPLOYMENT_GVK, review } from "./helpers.ts";

const valid = () => review(admissionRequest("UPDATE", DEPLOYMENT_GVK, deployment("podinfo"), deployment("podinfo")));

/** `valid()` with one field replaced; path segments separated by dots. */
function withField(path: string, value: unknown): unknown {
  const body = valid() as Record<string, unknown>;
  const keys = path.split(".");
  let node = body as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
  return body;
}

describe("AdmissionReview parsing and responses", () => {
  it("accepts a real review, including a DELETE with a null object", () => {
    const parsed = parseAdmissionReview(valid());
    assert.equal(parsed.ok, true);
    const del = review(admissionRequest("DELETE", DEPLOYMENT_GVK, null, deployment("podinfo")));
    assert.equal(parseAdmissionReview(del).ok, true);
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ["an array", [], /body must be a JSON object/],
    ["a string", "AdmissionReview", /body must be a JSON object/],
    ["another kind", { ...(valid() as object), kind: "Review" }, /^kind must be "AdmissionReview"/],
    ["v1beta1", { ...(valid() as object), apiVersion: "admission.k8s.io/v1beta1" }, /apiVersion must be "admission\.k8s\.io\/v1"/],
    ["no request", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }, /^request must be an object/],
    ["an empty uid", withField("request.uid", ""), /request\.uid must be a non-empty string/],
    ["a numeric uid", withField("request.uid", 42), /request\.uid/],
    ["a huge uid", withField("request.uid", "u".repeat(10_000)), /at most 128 characters/],
    ["kind as a string", withField("request.kind", "Deployment"), /request\.kind must be an object/],
    ["kind without a version", withField("request.kind", { group: "apps", kind: "Deployment" }), /request\.kind\.version must be a string/],
    ["resource missing", withField("request.resource", undefined), /request\.resource must be an object/],
    ["an unknown operation", withField("request.operation", "PATCH"), /request\.operation must be one of CREATE, UPDATE, DELETE, CONNECT/],
    ["no userInfo", withField("request.userInfo", null), /request\.userInfo must be an object/],
    ["a numeric username", withField("request.userInfo.username", 7), /username must be a string/],
    ["groups not strings", withField("request.userInfo.groups", ["a", 1]), /groups must be a list of strings/],
    ["object as a list", withField("request.object", [1, 2]), /request\.object must be an object or null/],
    ["metadata as a string", withField("request.oldObject.metadata", "x"), /request\.oldObject\.metadata must be an object/],
    ["a numeric name", withField("request.object.metadata.name", 5), /request\.object\.metadata\.name must be a string/],
    ["labels with a number", withField("request.object.metadata.labels", { a: 1 }), /labels must map strings to strings/],
    ["annotations as a list", withField("request.oldObject.metadata.annotations", ["x"]), /annotations must map strings to strings/],
    ["a numeric namespace", withField("request.namespace", 3), /request\.namespace must be a string/],
    ["dryRun as a string", withField("request.dryRun", "true"), /request\.dryRun must be a boolean/],
  ];
  for (const [name, body, error] of cases) {
    it(`rejects ${name}`, () => {
      const parsed = parseAdmissionReview(body);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? "" : parsed.error, error);
    });
  }

  it("builds responses: uid echoed, patch base64 JSONPatch only when allowed and non-empty, status on denial", () => {
    assert.deepEqual(toResponse("u1", { allowed: true, patch: [] }), { uid: "u1", allowed: true });
    const withPatch = toResponse("u2", { allowed: true, patch: [{ op: "add", path: "/a", value: 1 }], warnings: ["w"] });
    assert.equal(withPatch.patchType, "JSONPatch");
    assert.deepEqual(JSON.parse(Buffer.from(withPatch.patch ?? "", "base64").toString()), [{ op: "add", path: "/a", value: 1 }]);
    assert.deepEqual(withPatch.warnings, ["w"]);
    assert.deepEqual(toResponse("u3", denied("no", 422)), { uid: "u3", allowed: false, status: { code: 422, message: "no", reason: "Invalid" } });
    assert.deepEqual(toReview(toResponse("u4", { allowed: true })), {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "u4", allowed: true },
    });
  });
});
