import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Canary } from "../../../src/api/types.ts";
import { validateCanary } from "../../../src/api/validate.ts";
import { builtinQueryTemplate } from "../../../src/metrics/builtins.ts";
import { buildTraefikServiceSpec, readTraefikService } from "../../../src/router/traefik.ts";
import { RouterSpecError } from "../../../src/router/types.ts";

const canary = (): Canary => ({
  apiVersion: "aviary.dev/v1beta1",
  kind: "Canary",
  metadata: { name: "podinfo", namespace: "test", uid: "u" },
  spec: { provider: "traefik", targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "podinfo" }, service: { port: 9898 } },
});

describe("traefik router spec", () => {
  it("weights the primary and canary Services; the canary is listed only while it has weight", () => {
    assert.deepEqual(buildTraefikServiceSpec(canary(), { primary: 70, canary: 30, mirror: false }), {
      weighted: { services: [{ name: "podinfo-primary", namespace: "test", port: 9898, weight: 70 }, { name: "podinfo-canary", namespace: "test", port: 9898, weight: 30 }] },
    });
    assert.deepEqual(buildTraefikServiceSpec(canary(), { primary: 100, canary: 0, mirror: false }).weighted.services.map((s) => s.name), ["podinfo-primary"]);
  });

  it("refuses to mirror and to write a weight outside 0..100", () => {
    assert.throws(() => buildTraefikServiceSpec(canary(), { primary: 100, canary: 0, mirror: true }), RouterSpecError);
    assert.throws(() => buildTraefikServiceSpec(canary(), { primary: 50, canary: 50.5, mirror: false }), RangeError);
  });

  it("reads relative weights back (no weight counts as 1, an absent canary as 0)", () => {
    assert.deepEqual(readTraefikService({ weighted: { services: [{ name: "podinfo-primary", weight: 1 }, { name: "podinfo-canary" }] } }, canary()), { primary: 50, canary: 50, mirror: false });
    assert.deepEqual(readTraefikService({ weighted: { services: [{ name: "podinfo-primary", weight: 100 }] } }, canary()), { primary: 100, canary: 0, mirror: false });
    assert.equal(readTraefikService({ mirroring: { name: "x" } }, canary()), undefined);
  });

  it("measures the canary Service through Traefik's service metrics", () => {
    assert.match(builtinQueryTemplate("request-success-rate", "traefik"), /traefik_service_requests_total\{service=~"\{\{ namespace \}\}-\{\{ service \}\}-canary-\[0-9a-zA-Z-\]\+@kubernetescrd", code=~"5\.\."\}/);
    assert.match(builtinQueryTemplate("request-duration", "traefik"), /traefik_service_request_duration_seconds_bucket.*\* 1000$/);
  });

  it("examples/traefik: the Canary passes validation", () => {
    const docs = parseAllDocuments(readFileSync("examples/traefik/canary.yaml", "utf8")).map((d) => d.toJS() as Canary);
    assert.deepEqual(validateCanary(docs.find((d) => d.kind === "Canary")!).filter((p) => p.severity === "error"), []);
  });
});
