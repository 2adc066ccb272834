/**
 * The `skipper` router (Skipper's backend weights): a copy of the Ingress named by
 * `spec.ingressRef`, called `<ingress>-canary`, listing each path of the apex Service for
 * both `<svc>-primary` and `<svc>-canary`, with `zalando.org/backend-weights` holding the
 * split (skipper-spec.ts builds it; canary-ingress.ts keeps it). The user's Ingress is only
 * read, never written.
 */
import { createCanaryIngressRouter } from "./canary-ingress.ts";
import {
  BACKEND_WEIGHTS_ANNOTATION,
  PREDICATE_ANNOTATION,
  buildSkipperIngressSpec,
  copiedAnnotations,
  isManagedAnnotation,
  readSkipperRoutes,
  skipperAnnotations,
} from "./skipper-spec.ts";
import type { Router, RouterDeps } from "./types.ts";

export function createSkipperRouter(deps: RouterDeps): Router {
  return createCanaryIngressRouter(deps, {
    provider: "skipper",
    isManagedAnnotation,
    buildSpec: buildSkipperIngressSpec,
    copiedAnnotations: (source) => copiedAnnotations(source.metadata.annotations),
    routeAnnotations: (canary, source, routes) => skipperAnnotations(canary, routes, source.metadata.annotations?.[PREDICATE_ANNOTATION]),
    readRoutes: readSkipperRoutes,
    unreadable: `no readable ${BACKEND_WEIGHTS_ANNOTATION} annotation for the primary and canary Services`,
  });
}
