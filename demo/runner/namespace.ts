/**
 * A second demo run starts from a clean namespace: the previous run's is deleted (aviary is
 * already running, so the Canaries' finalizers are honoured) and created again.
 */
import { API_VERSION, KIND_CANARY } from "../../src/api/types.ts";
import type { KubeClient } from "../../src/kube/types.ts";
import { kubectl, shellLine } from "./kubectl.ts";

const GONE_TIMEOUT_MS = 180_000;
/** After this long, finalizers left by an aviary that no longer runs are removed. */
const FINALIZER_GRACE_MS = 30_000;

export async function resetNamespace(kube: Pick<KubeClient, "get" | "list" | "mergePatch">, namespace: string, out: (line: string) => void, signal: AbortSignal): Promise<void> {
  const ref = { apiVersion: "v1", kind: "Namespace", name: namespace };
  const call = () => ({ signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) });
  if ((await kube.get(ref, call())) !== null) {
    out(`    a previous demo run left ${namespace}: deleting it first`);
    const del = ["delete", "namespace", namespace, "--wait=false", "--ignore-not-found"];
    out(shellLine(del));
    await kubectl(del, { signal });
    const started = Date.now();
    let reported = started;
    let unblocked = false;
    while ((await kube.get(ref, call())) !== null) {
      const waited = Date.now() - started;
      if (waited > GONE_TIMEOUT_MS) throw new Error(`namespace ${namespace} was not deleted within ${GONE_TIMEOUT_MS / 1000}s; see: kubectl get namespace ${namespace} -o yaml`);
      if (!unblocked && waited > FINALIZER_GRACE_MS) {
        unblocked = true;
        for (const c of await kube.list(API_VERSION, KIND_CANARY, namespace, call())) {
          if ((c.metadata.finalizers ?? []).length === 0) continue;
          out(`    removing the finalizers of Canary ${c.metadata.name}, which no aviary is left to handle`);
          await kube.mergePatch({ apiVersion: API_VERSION, kind: KIND_CANARY, namespace, name: c.metadata.name }, { metadata: { finalizers: null } }, call());
        }
      }
      if (Date.now() - reported >= 5_000) {
        out(`    … still deleting ${namespace} (${Math.round(waited / 1000)}s)`);
        reported = Date.now();
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const create = ["create", "namespace", namespace];
  out(shellLine(create));
  await kubectl(create, { signal });
}
