/**
 * The `nginx` router (ingress-nginx canary annotations): a copy of the Ingress named by
 * `spec.ingressRef`, called `<ingress>-canary`, whose backends point at `<svc>-canary` and
 * whose annotations say how much traffic it gets (nginx-spec.ts builds it; canary-ingress.ts
 * keeps it). The user's Ingress is only read, never written: it keeps sending its traffic to
 * the apex Service `<svc>`, which selects the primary.
 */
import { createCanaryIngressRouter } from "./canary-ingress.ts";
import {
  DEFAULT_NGINX_ANNOTATION_PREFIX,
  buildCanaryIngressSpec,
  canaryAnnotations,
  copiedAnnotations,
  isAbTesting,
  isManagedAnnotation,
  readIngressRoutes,
} from "./nginx-spec.ts";
import type { Router, RouterDeps } from "./types.ts";

export interface NginxRouterOptions {
  /** ingress-nginx's annotation prefix (its `--annotations-prefix`); default `nginx.ingress.kubernetes.io`. */
  annotationPrefix?: string;
}

export function createNginxRouter(deps: RouterDeps, opts: NginxRouterOptions = {}): Router {
  const prefix = opts.annotationPrefix ?? DEFAULT_NGINX_ANNOTATION_PREFIX;
  return createCanaryIngressRouter(deps, {
    provider: "nginx",
    isManagedAnnotation: (key) => isManagedAnnotation(key, prefix),
    buildSpec: buildCanaryIngressSpec,
    copiedAnnotations: (source) => copiedAnnotations(source.metadata.annotations, prefix),
    routeAnnotations: (canary, _source, routes) => canaryAnnotations(canary, routes, prefix),
    readRoutes: (canary, annotations) => readIngressRoutes(annotations, prefix, isAbTesting(canary)),
    unreadable: `no readable ${prefix}/canary and canary-weight annotations`,
  });
}
