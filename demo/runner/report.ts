/** What the demo says after each release and at the end. Pure. */
import type { Canary } from "../../src/api/types.ts";
import { DEFAULT_THRESHOLD } from "../../src/api/defaults.ts";
import type { MeshStats } from "../mesh.ts";

export interface ReleaseOutcome {
  version: string;
  expected: "Succeeded" | "Failed";
  canary: Canary;
  seconds: number;
  /** The image `<target>-primary` runs after the release. */
  primaryImage: string;
  /** The simulated mesh's counters when the release started and when it settled. */
  meshBefore: MeshStats;
  meshAfter: MeshStats;
}

export function describeOutcome(o: ReleaseOutcome): string[] {
  const status = o.canary.status ?? {};
  const phase = status.phase ?? "(no status)";
  const primary = `${o.canary.spec.targetRef.name}-primary`;
  const served = o.meshAfter.canary.requests - o.meshBefore.canary.requests;
  const errors = o.meshAfter.canary.errors - o.meshBefore.canary.errors;
  const traffic = `the canary served ${served} requests through the simulated mesh, ${errors} of them 5xx`;
  const results = status.lastAnalysis ?? [];
  if (phase !== o.expected) {
    const why = results.map((r) => r.message).join("; ") || (status.conditions ?? []).map((c) => c.message).join("; ");
    return [`✘ ${o.version}: expected ${o.expected}, but the Canary is ${phase} after ${o.seconds}s${why ? `: ${why}` : ""}`, `  ${traffic}`];
  }
  if (phase === "Succeeded") {
    const checks = results.filter((r) => r.verdict === "pass").map((r) => r.message).join("; ");
    return [
      `✔ ${o.version} promoted in ${o.seconds}s: ${primary} now runs ${o.primaryImage} and takes all traffic`,
      ...(checks ? [`  last checks: ${checks}`] : []),
      `  ${traffic}`,
    ];
  }
  const threshold = o.canary.spec.analysis?.threshold ?? DEFAULT_THRESHOLD;
  const failed = results.filter((r) => r.verdict !== "pass" && r.verdict !== "skip").map((r) => r.message).join("; ");
  return [
    `✔ ${o.version} rolled back in ${o.seconds}s after ${status.failedChecks ?? 0}/${threshold} failed checks: ${primary} still runs ${o.primaryImage}`,
    ...(failed ? [`  measured: ${failed}`] : []),
    `  ${traffic}`,
  ];
}

export interface LookOptions {
  namespace: string;
  name: string;
  aviaryLog: string;
  meshLog: string;
  prometheus: string;
  kubeconfig: string;
}

export function whereToLook(o: LookOptions): string[] {
  const query = encodeURIComponent(`sum by (pod, status) (rate(http_requests_total{namespace="${o.namespace}"}[10s]))`);
  return [
    "Where to look (the cluster and Prometheus keep running; `npm run demo -- --down` stops them):",
    `  export KUBECONFIG=${o.kubeconfig}   # and: eval "$(bash hack/cluster env)" for the matching kubectl`,
    `  kubectl -n ${o.namespace} get canaries -w                # STATUS, WEIGHT, FAILEDCHECKS, …`,
    `  kubectl -n ${o.namespace} describe canary ${o.name}       # status.lastAnalysis: what was measured, against what`,
    `  kubectl -n ${o.namespace} get events --field-selector involvedObject.kind=Canary --sort-by=.lastTimestamp`,
    `  kubectl -n ${o.namespace} get deploy,svc,httproutes       # what aviary generated`,
    `  aviary's log (JSON lines):   ${o.aviaryLog}`,
    `  simulated mesh's log:        ${o.meshLog}`,
    `  Prometheus:                  ${o.prometheus}/graph?g0.expr=${query}`,
    `  run the controller yourself: node src/main.ts --no-webhook --namespace ${o.namespace} --metrics-server ${o.prometheus}`,
  ];
}
