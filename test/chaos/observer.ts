/**
 * Watches what the chaos tier judges, with aviary's own informers (they list again after a
 * watch breaks, so an API server or etcd restart leaves a gap, never a wrong record): every
 * version of each Canary's status, each primary Deployment's image, and the canary weight
 * of each HTTPRoute.
 */
import { createKubeClient } from "../../src/kube/client.ts";
import { loadKubeConfig } from "../../src/kube/config.ts";
import { createInformer, type Informer } from "../../src/kube/informer.ts";
import type { KubeObject } from "../../src/kube/types.ts";
import { createLogger } from "../../src/observability/logger.ts";

export interface Sample<T> {
  at: number;
  value: T;
}

export interface CanarySample {
  phase: string;
  weight: number;
}

export interface Observations {
  /** Per Canary name, each distinct (phase, weight) in the order seen. */
  canaries: Map<string, Sample<CanarySample>[]>;
  /** Per app, each distinct image of `<app>-primary`. */
  primaryImages: Map<string, Sample<string>[]>;
  /** Per app, each distinct canary weight of the HTTPRoute `<app>`. */
  routeWeights: Map<string, Sample<number>[]>;
  stop(): Promise<void>;
}

type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

function appendDistinct<T>(map: Map<string, Sample<T>[]>, key: string, value: T, same: (a: T, b: T) => boolean): void {
  const list = map.get(key) ?? [];
  const last = list[list.length - 1];
  if (!last || !same(last.value, value)) list.push({ at: Date.now(), value });
  map.set(key, list);
}

const imageOf = (d: Obj): string | undefined => {
  const containers = (d.spec?.template as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec?.containers;
  return containers?.[0]?.image;
};

/** The weight of the `<app>-canary` backend in the HTTPRoute's first rule. */
const canaryWeightOf = (route: Obj, app: string): number | undefined => {
  const rules = route.spec?.rules as { backendRefs?: { name: string; weight?: number }[] }[] | undefined;
  const ref = rules?.[0]?.backendRefs?.find((b) => b.name === `${app}-canary`);
  return ref ? (ref.weight ?? 1) : undefined;
};

export async function startObserver(namespace: string): Promise<Observations> {
  const client = createKubeClient(loadKubeConfig(), { userAgent: "aviary-chaos-observer" });
  const logger = createLogger({ level: "error", write: () => {} });
  const canaries = new Map<string, Sample<CanarySample>[]>();
  const primaryImages = new Map<string, Sample<string>[]>();
  const routeWeights = new Map<string, Sample<number>[]>();
  const backoff = { initialMs: 200, maxMs: 1000 };

  const informers: Informer<Obj>[] = [
    createInformer<Obj>({
      client, logger, backoff, namespace, apiVersion: "aviary.dev/v1beta1", kind: "Canary",
      transform: (o) => o as Obj,
      onEvent: ({ type, object }) => {
        if (type === "deleted") return;
        const s = object.status as { phase?: string; canaryWeight?: number } | undefined;
        appendDistinct(canaries, object.metadata.name, { phase: s?.phase ?? "", weight: s?.canaryWeight ?? 0 }, (a, b) => a.phase === b.phase && a.weight === b.weight);
      },
    }),
    createInformer<Obj>({
      client, logger, backoff, namespace, apiVersion: "apps/v1", kind: "Deployment",
      transform: (o) => o as Obj,
      onEvent: ({ type, object }) => {
        const name = object.metadata.name;
        if (type === "deleted" || !name.endsWith("-primary")) return;
        const image = imageOf(object);
        if (image) appendDistinct(primaryImages, name.slice(0, -"-primary".length), image, (a, b) => a === b);
      },
    }),
    createInformer<Obj>({
      client, logger, backoff, namespace, apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute",
      transform: (o) => o as Obj,
      onEvent: ({ type, object }) => {
        if (type === "deleted") return;
        const weight = canaryWeightOf(object, object.metadata.name);
        if (weight !== undefined) appendDistinct(routeWeights, object.metadata.name, weight, (a, b) => a === b);
      },
    }),
  ];
  for (const i of informers) i.start();
  await Promise.all(informers.map((i) => i.waitForSync()));
  return {
    canaries,
    primaryImages,
    routeWeights,
    async stop() {
      await Promise.all(informers.map((i) => i.stop()));
      await client.close();
    },
  };
}
