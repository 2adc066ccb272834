import assert from "node:assert/strict";
import { takeOverFields } from "../../../src/kube/field-owners.ts";
import type { ManagedFieldsEntry } from "../../../src/kube/field-owners.ts";

const NOW = "2026-01-01T00:00:00Z";
const opts = { from: (m: string) => m === "flagger", to: "aviary", apiVersion: "apps/v1", move: [["f:spec"]], keep: [["f:spec", "f:replicas"]], now: NOW };

const flagger: ManagedFieldsEntry = {
  manager: "flagger", operation: "Update", apiVersion: "apps/v1", time: "2025-01-01T00:00:00Z", fieldsType: "FieldsV1",
  fieldsV1: {
    "f:metadata": { "f:labels": { ".": {}, "f:app": {} }, "f:ownerReferences": { 'k:{"uid":"u1"}': {} } },
    "f:spec": { "f:replicas": {}, "f:selector": {}, "f:template": { "f:spec": { "f:containers": { 'k:{"name":"app"}': { "f:env": { 'k:{"name":"FOO"}': { ".": {}, "f:name": {}, "f:value": {} } } } } } } },
  },
};

describe("takeOverFields", () => {
  it("moves the other manager's spec fields to aviary's new Apply entry, keeping replicas and metadata where they were", () => {
    const out = takeOverFields([flagger], opts)!;
    assert.equal(out.length, 2);
    assert.deepEqual(out[0]!.fieldsV1, { "f:metadata": flagger.fieldsV1!["f:metadata"], "f:spec": { "f:replicas": {} } });
    assert.deepEqual(out[1], {
      manager: "aviary", operation: "Apply", apiVersion: "apps/v1", time: NOW, fieldsType: "FieldsV1",
      fieldsV1: { "f:spec": { "f:selector": {}, "f:template": flagger.fieldsV1!["f:spec"]!["f:template"]! } },
    });
  });

  it("merges into aviary's existing Apply entry and drops an entry left owning nothing", () => {
    const ours: ManagedFieldsEntry = { manager: "aviary", operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:selector": {} }, "f:metadata": { "f:labels": { "f:x": {} } } } };
    const specOnly: ManagedFieldsEntry = { manager: "flagger", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:ports": { 'k:{"port":80,"protocol":"TCP"}': {} }, "f:selector": {} } } };
    const out = takeOverFields([specOnly, ours], { ...opts, keep: [] })!;
    assert.deepEqual(out.map((e) => e.manager), ["aviary"]);
    assert.deepEqual(out[0]!.fieldsV1, { "f:spec": { "f:selector": {}, "f:ports": { 'k:{"port":80,"protocol":"TCP"}': {} } }, "f:metadata": { "f:labels": { "f:x": {} } } });
    assert.equal(out[0]!.time, NOW);
  });

  it("leaves other managers, Apply entries and subresource entries alone; null when nothing moves", () => {
    const entries: ManagedFieldsEntry[] = [
      { manager: "kubectl", operation: "Update", fieldsV1: { "f:spec": { "f:paused": {} } } },
      { manager: "flagger", operation: "Update", subresource: "status", fieldsV1: { "f:status": {} } },
      { manager: "flagger", operation: "Update", fieldsV1: { "f:metadata": { "f:labels": {} } } },
    ];
    assert.equal(takeOverFields(entries, opts), null);
  });
});
