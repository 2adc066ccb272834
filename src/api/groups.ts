/**
 * The API group aviary serves Canary, MetricTemplate and AlertProvider in. `aviary.dev` by
 * default; `flagger.app` makes aviary a drop-in replacement for Flagger: the same kinds,
 * version and fields, so the Canaries already in the cluster are reconciled as they are.
 *
 * This is the one module that knows the group names. The group is chosen once (`--api-group`
 * for the operator, `--api-group`/AVIARY_API_GROUP for the CLI) and an ApiGroup built here is
 * handed to everything that names these kinds: informers, reads, status writes, admission
 * rules, the CLI. Objects read from the cluster carry their own apiVersion, so owner
 * references point at the Canary as it is served.
 */
export const API_GROUPS = ["aviary.dev", "flagger.app"] as const;
export type ApiGroupName = (typeof API_GROUPS)[number];

export const DEFAULT_API_GROUP: ApiGroupName = "aviary.dev";
/** Flagger's group: aviary serving it takes over what Flagger created (controller/canary/adopt.ts). */
export const FLAGGER_API_GROUP: ApiGroupName = "flagger.app";
export const API_VERSION_NAME = "v1beta1";

export interface ApiKind {
  apiVersion: string;
  kind: string;
}

export interface ApiGroup {
  readonly name: ApiGroupName;
  /** `<group>/v1beta1` */
  readonly apiVersion: string;
  readonly canary: ApiKind;
  readonly metricTemplate: ApiKind;
  readonly alertProvider: ApiKind;
}

export const isApiGroupName = (s: string): s is ApiGroupName => (API_GROUPS as readonly string[]).includes(s);

export function apiGroup(name: ApiGroupName = DEFAULT_API_GROUP): ApiGroup {
  const apiVersion = `${name}/${API_VERSION_NAME}`;
  return Object.freeze({
    name,
    apiVersion,
    canary: Object.freeze({ apiVersion, kind: "Canary" }),
    metricTemplate: Object.freeze({ apiVersion, kind: "MetricTemplate" }),
    alertProvider: Object.freeze({ apiVersion, kind: "AlertProvider" }),
  });
}

/** The default group's kinds, for code that writes manifests rather than serving them (`aviary convert`). */
export const DEFAULT_API: ApiGroup = apiGroup();

/** The group of an apiVersion (`flagger.app/v1beta1` → `flagger.app`); undefined when it is not one aviary serves. */
export function groupOf(apiVersion: string | undefined): ApiGroupName | undefined {
  const group = apiVersion?.split("/")[0] ?? "";
  return isApiGroupName(group) ? group : undefined;
}

/** Parses a flag or environment value; the error names the choices. */
export function parseApiGroup(raw: string | undefined, flag: string): ApiGroup {
  if (raw === undefined || raw === "") return DEFAULT_API;
  if (!isApiGroupName(raw)) throw new RangeError(`${flag}: must be one of ${API_GROUPS.join(", ")}, got "${raw}"`);
  return apiGroup(raw);
}
