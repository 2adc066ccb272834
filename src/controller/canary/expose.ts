/**
 * The Services of a first-deploy analysis: before any primary exists, the apex Service and
 * `<svc>-canary` both select the target's pods, so users keep reaching the only version
 * there is and a load tester can drive the revision under analysis through either name.
 * Initialization later re-applies the apex with the primary's selector.
 */
import type { Canary } from "../../api/types.ts";
import { selectorLabel } from "../../ground/identity.ts";
import type { Service, Workload } from "../../ground/workloads.ts";
import { buildServices } from "./objects.ts";

export function buildFirstDeployServices(canary: Canary, target: Workload): Service[] {
  const { apex, canary: canarySvc } = buildServices(canary, target);
  const { key, value } = selectorLabel(target);
  return [{ ...apex, spec: { ...apex.spec, selector: { [key]: value } } }, canarySvc];
}
