/**
 * Set-up shared by the routers' integration tests: aviary's CRDs, a scratch namespace, a real
 * Canary, a write-counting client, example manifests, and the checks every router must pass
 * the same way (an idle reconcile writes nothing, a missing CRD is named, a split is written
 * once per step).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import type { Canary } from "../../../src/api/types.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { KubeClient, KubeObject } from "../../../src/kube/types.ts";
import { RouterCrdMissingError } from "../../../src/router/types.ts";
import type { Router } from "../../../src/router/types.ts";
import { eventually, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { clusterClient } from "../kube/support.ts";

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

/** What differs between the users' Ingresses the Ingress routers are tested with. */
export interface UserIngressShape {
  className: string;
  /** The user's own annotations (they may name the Service). */
  annotations: (service: string) => Record<string, string>;
  /** The port name of the backend aviary weights (alb: `use-annotation`). */
  portName: string;
  tls?: boolean;
  defaultBackend?: boolean;
}

/**
 * A user's Ingress `name` for `<name>.example.com`, labelled `team: web`: `/` to `service`
 * (the path aviary weights) and `/static` to a Service of its own, which aviary leaves alone.
 */
export const userIngressOf = (shape: UserIngressShape) => (name: string, service: string) => ({
  apiVersion: "networking.k8s.io/v1",
  kind: "Ingress",
  metadata: { name, labels: { team: "web" }, annotations: shape.annotations(service) },
  spec: {
    ingressClassName: shape.className,
    ...(shape.defaultBackend ? { defaultBackend: { service: { name: service, port: { number: 80 } } } } : {}),
    ...(shape.tls ? { tls: [{ hosts: [`${name}.example.com`], secretName: `${name}-tls` }] } : {}),
    rules: [{
      host: `${name}.example.com`,
      http: { paths: [
        { path: "/", pathType: "Prefix", backend: { service: { name: service, port: { name: shape.portName } } } },
        { path: "/static", pathType: "Prefix", backend: { service: { name: "assets", port: { number: 80 } } } },
      ] },
    }],
  },
});

/** The Canary `podinfo` of an Ingress router, naming the Ingress `podinfo`. */
export const ingressCanary = (client: ClusterClient, namespace: string, provider: string): Promise<Canary> =>
  createCanary(client, namespace, "podinfo", {
    provider,
    ingressRef: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "podinfo" },
    service: { port: 80 },
    analysis: { interval: "1m", threshold: 5, maxWeight: 30, stepWeight: 10 },
  });

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

/** What a router's suite works with: its namespace, a client, the counting client the router writes through, the router. */
export interface RouterBench {
  ns: Awaited<ReturnType<typeof tempNamespace>>;
  client: ClusterClient;
  kube: CountingClient;
  router: Router;
}

/** aviary's CRDs, a scratch namespace, and the router under test writing through a counting client. */
export async function setUpRouterBench(makeRouter: (kube: CountingClient) => Router): Promise<RouterBench> {
  await installAviaryCrds();
  const ns = await tempNamespace();
  const client = clusterClient();
  const kube = countingClient(client);
  return { ns, client, kube, router: makeRouter(kube) };
}

/** Undoes setUpRouterBench, however far it got. */
export async function tearDownRouterBench(bench: Partial<Pick<RouterBench, "ns" | "client">>): Promise<void> {
  await bench.ns?.remove();
  await bench.client?.close();
}

/** The objects of an example file (of one kind, when given), without their namespace (the test's own is used). */
export async function loadExample(path: string, kind?: string): Promise<KubeObject[]> {
  const docs = parseAllDocuments(await readFile(path, "utf8")).map((d) => d.toJS() as KubeObject).filter((d) => kind === undefined || d.kind === kind);
  for (const d of docs) delete d.metadata.namespace;
  return docs;
}

/** A second reconcile reports no change, sends no request, and leaves the stored objects' resourceVersions as they were. */
export async function assertIdleReconcile(bench: Pick<RouterBench, "kube" | "router">, canary: Canary, versions: () => Promise<unknown>, signal: AbortSignal): Promise<void> {
  const before = await versions();
  bench.kube.writes.length = 0;
  assert.deepEqual(await bench.router.reconcile(canary, signal), { changed: false });
  assert.deepEqual(bench.kube.writes, []);
  assert.deepEqual(await versions(), before);
}

/** Every call but finalize fails with RouterCrdMissingError naming `crd`; finalize has nothing to clean up. */
export async function assertCrdMissing(router: Router, canary: Canary, crd: string, signal: () => AbortSignal): Promise<void> {
  const expected = (err: unknown) => err instanceof RouterCrdMissingError && err.message === `the CRD ${crd} is not installed`;
  await assert.rejects(router.reconcile(canary, signal()), expected);
  await assert.rejects(router.setRoutes(canary, { primary: 90, canary: 10, mirror: false }, signal()), expected);
  await assert.rejects(router.getRoutes(canary, signal()), expected);
  await router.finalize(canary, signal());
}

/**
 * A canary run through setRoutes, one canary weight per step: the stored object shows each
 * split (`stored` returns it as [[primary, weight], [canary, weight]]), getRoutes reads it
 * back, and setting the same split again sends nothing.
 */
export async function assertRunWrittenOnce(
  bench: Pick<RouterBench, "kube" | "router">, canary: Canary, names: [string, string], canaryWeights: number[],
  stored: () => Promise<unknown>, signal: () => AbortSignal,
): Promise<void> {
  const { kube, router } = bench;
  const seen: number[] = [];
  for (const w of canaryWeights) {
    await router.setRoutes(canary, { primary: 100 - w, canary: w, mirror: false }, signal());
    assert.deepEqual(await stored(), [[names[0], 100 - w], [names[1], w]]);
    seen.push((await router.getRoutes(canary, signal())).canary);
    kube.writes.length = 0;
    await router.setRoutes(canary, { primary: 100 - w, canary: w, mirror: false }, signal());
    assert.deepEqual(kube.writes, [], `the same split (${w}) again is not written`);
  }
  assert.deepEqual(seen, canaryWeights);
}

/**
 * A canary run through setRoutes, one [primary, canary] split per step: `checkStored` sees
 * each split in the stored object, getRoutes reads it back, and a reconcile keeps it.
 */
export async function assertRunKeptByReconcile(
  router: Router, canary: Canary, steps: readonly (readonly [number, number])[],
  checkStored: (primary: number, canary: number) => Promise<void>, signal: () => AbortSignal,
): Promise<void> {
  for (const [p, c] of steps) {
    await router.setRoutes(canary, { primary: p, canary: c, mirror: false }, signal());
    await checkStored(p, c);
    assert.deepEqual(await router.getRoutes(canary, signal()), { primary: p, canary: c, mirror: false });
    assert.deepEqual(await router.reconcile(canary, signal()), { changed: false }, `reconcile keeps ${p}/${c}`);
  }
}

/** A taken-over object given back on finalize: the original spec and labels, and no trace of aviary's saved copy. */
export function assertGivenBack(back: KubeObject, original: KubeObject, labels: Record<string, string>): void {
  assert.deepEqual(back.spec, original.spec);
  assert.deepEqual(back.metadata.labels, labels);
  assert.equal(back.metadata.annotations?.["aviary.dev/original-configuration"], undefined);
}
