/**
 * A cluster for controller tests that need informers but no traffic: every list holds the
 * given objects of its kind (nothing for other kinds), watches stay open and silent until
 * aborted, and no optional API is installed.
 */
import type { ClusterClient, ListResult, WatchOptions } from "../../src/kube/client.ts";
import { KubeApiError } from "../../src/kube/types.ts";
import type { KubeObject } from "../../src/kube/types.ts";

export function quietCluster(objects: readonly KubeObject[] = []): ClusterClient {
  const client = {
    async *listPages<T extends KubeObject>(_apiVersion: string, kind: string): AsyncGenerator<ListResult<T>, void, void> {
      yield { items: objects.filter((o) => o.kind === kind) as T[], resourceVersion: "1" };
    },
    // eslint-disable-next-line require-yield
    async *watch(_apiVersion: string, _kind: string, _ns: string | undefined, opts: WatchOptions = {}) {
      await new Promise<void>((resolve) => opts.signal?.addEventListener("abort", () => resolve(), { once: true }));
      throw new KubeApiError("watch: aborted", 0, "Aborted");
    },
    discovery: { resource: async () => { throw new KubeApiError("not installed", 404, "NotFound"); } },
  };
  return client as unknown as ClusterClient;
}
