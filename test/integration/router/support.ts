/** Set-up shared by the routers' integration tests: aviary's CRDs, a real Canary, a write-counting client. */
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeClient } from "../../../src/kube/types.ts";
import { eventually, kubectlOk } from "../../support/kubectl.ts";

export async function installAviaryCrds(): Promise<void> {
  await kubectlOk(["apply", "--server-side", "-k", "manifests/crds/"]);
}

/**
 * Creates a Canary and returns it as stored (with its uid), so the generated objects' owner
 * references are real and the garbage collector leaves them alone. Suspended, so a
 * controller that happens to run against the cluster does not act on it.
 */
export async function createCanary(client: ClusterClient, namespace: string, name: string, spec: Partial<Canary["spec"]>): Promise<Canary> {
  const obj: Canary = {
    apiVersion: "aviary.dev/v1beta1",
    kind: "Canary",
    metadata: { name, namespace },
    spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name }, service: { port: 9898 }, suspend: true, ...spec },
  };
  // The CRD may have been (re)applied a moment ago: wait until it is served.
  return eventually(`Canary ${namespace}/${name} to be created`, async () => client.create<Canary>(obj), 30_000);
}

export interface CountingClient extends KubeClient {
  writes: string[];
}

/** The real client, with every write it sends recorded (not a mock: each call goes to the API server). */
export function countingClient(client: KubeClient): CountingClient {
  const writes: string[] = [];
  const name = (o: { kind: string; metadata?: { name: string }; name?: string }) => `${o.kind} ${o.metadata?.name ?? o.name}`;
  return {
    writes,
    get: (ref, opts) => client.get(ref, opts),
    list: (apiVersion, kind, namespace, opts) => client.list(apiVersion, kind, namespace, opts),
    create: (obj, opts) => { writes.push(`create ${name(obj)}`); return client.create(obj, opts); },
    apply: (obj, opts) => { writes.push(`apply ${name(obj)}`); return client.apply(obj, opts); },
    mergePatch: (ref, patch, opts) => { writes.push(`patch ${name(ref)}`); return client.mergePatch(ref, patch, opts); },
    replace: (obj, opts) => { writes.push(`replace ${name(obj)}`); return client.replace(obj, opts); },
    delete: (ref, opts) => { writes.push(`delete ${name(ref)}`); return client.delete(ref, opts); },
  } as CountingClient;
}
