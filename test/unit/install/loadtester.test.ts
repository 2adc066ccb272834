import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseCommandLine } from "../../../src/cli/args.ts";
import { GLOBAL_OPTIONS } from "../../../src/cli/app.ts";
import { loadtesterCommand } from "../../../src/cli/commands/loadtester.ts";
import { kustomizationFiles, loadManifests, MANIFESTS, only } from "./manifests.ts";

const DIR = join(MANIFESTS, "loadtester");
const objects = loadManifests(DIR);

interface Container {
  image: string;
  command: string[];
  args: string[];
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: Record<string, unknown> & { capabilities: { drop: string[] } };
}
interface Deployment {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: { serviceAccountName: string; automountServiceAccountToken: boolean; securityContext: Record<string, unknown>; containers: Container[] };
    };
  };
}
interface Service {
  spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string }> };
}

const deployment = only<Deployment>(objects, "Deployment", "aviary-loadtester");
const pod = deployment.spec.template.spec;
const container = pod.containers[0]!;

describe("load tester manifests", () => {
  it("are one kustomization of every file in manifests/loadtester, with no namespace (applied with -n)", () => {
    const listed = kustomizationFiles(DIR).map((f) => f.split("/").pop());
    const onDisk = readdirSync(DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    assert.deepEqual([...listed].sort(), onDisk.sort());
    assert.deepEqual(objects.map((o) => o.kind).sort(), ["Deployment", "Service", "ServiceAccount"]);
    for (const o of objects) assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name}`);
    assert.ok(!kustomizationFiles().some((f) => f.includes("loadtester")), "not part of the operator's install");
  });

  it("run `aviary loadtester` from the operator's image and tag, with flags the command accepts", () => {
    const operator = only<Deployment>(loadManifests(), "Deployment", "aviary").spec.template.spec.containers[0]!;
    assert.equal(container.image, operator.image);
    const tag = (file: string) => (parse(readFileSync(file, "utf8")) as { images: Array<{ name: string; newTag: string }> }).images.find((i) => i.name === "aviary")?.newTag;
    assert.equal(tag(join(DIR, "kustomization.yaml")), tag(join(MANIFESTS, "kustomization.yaml")));
    assert.deepEqual(container.command, ["node", "dist/cli/main.js", "loadtester"]);
    const { values, positionals } = parseCommandLine(container.args, [...GLOBAL_OPTIONS, ...loadtesterCommand.options]);
    assert.deepEqual(positionals, []);
    assert.equal(Number(values.port), container.ports.find((p) => p.name === "http")?.containerPort);
    assert.equal(container.livenessProbe.httpGet.path, "/healthz");
    assert.equal(container.readinessProbe.httpGet.port, "http");
  });

  it("are locked down: no API token, non-root, read-only root filesystem, no capabilities, one replica", () => {
    assert.equal(deployment.spec.replicas, 1, "background runs are deduplicated per replica");
    const sa = only<{ automountServiceAccountToken: boolean }>(objects, "ServiceAccount", pod.serviceAccountName);
    assert.equal(sa.automountServiceAccountToken, false);
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
    for (const r of ["cpu", "memory"]) assert.ok(container.resources.requests[r] && container.resources.limits[r], r);
    assert.ok(!objects.some((o) => o.kind.includes("Role")), "no RBAC at all");
  });

  it("serve port 80 under the Service name Flagger's tutorials call", () => {
    const service = only<Service>(objects, "Service", "flagger-loadtester");
    const labels = deployment.spec.template.metadata.labels;
    assert.ok(Object.entries(service.spec.selector).every(([k, v]) => labels[k] === v));
    assert.deepEqual(service.spec.ports.map((p) => [p.port, p.targetPort]), [[80, "http"]]);
  });
});
