/**
 * What the status says about the router provider: `status.provider` names the provider in
 * effect (so `aviary get` and `kubectl get -o wide` show what a Canary without
 * spec.provider runs with), and the `Unsupported` condition names every field that this
 * provider ignores, as the admission webhook warned when the Canary was applied. Pure.
 */
import { ignoredFields, ignoredMessage } from "../../api/provider-fields.ts";
import { CONDITION_UNSUPPORTED } from "../../api/types.ts";
import type { CanaryCondition, CanaryStatus } from "../../api/types.ts";

export function withProviderStatus(status: CanaryStatus, canary: unknown, provider: string, nowIso: string): CanaryStatus {
  const ignored = ignoredFields(canary, provider);
  const conditions = [...(status.conditions ?? [])];
  const i = conditions.findIndex((c) => c.type === CONDITION_UNSUPPORTED);
  const prev = i >= 0 ? conditions[i] : undefined;
  let next: CanaryCondition | undefined;
  if (ignored.length > 0) {
    next = { type: CONDITION_UNSUPPORTED, status: "True", reason: "FieldsIgnored", message: ignoredMessage(ignored), lastUpdateTime: nowIso, lastTransitionTime: nowIso };
  } else if (prev !== undefined) {
    // Once reported, the condition stays, turned False, so the fix is visible too.
    next = { type: CONDITION_UNSUPPORTED, status: "False", reason: "AllFieldsHonoured", message: `every field set is honoured by provider ${provider}`, lastUpdateTime: nowIso, lastTransitionTime: nowIso };
  }
  if (next !== undefined) {
    if (prev !== undefined && prev.status === next.status && prev.message === next.message) next = prev;
    else if (prev !== undefined && prev.status === next.status) next = { ...next, lastTransitionTime: prev.lastTransitionTime ?? nowIso };
    if (i >= 0) conditions[i] = next;
    else conditions.push(next);
  }
  const out: CanaryStatus = { ...status, provider };
  if (conditions.length > 0) out.conditions = conditions;
  return out;
}
