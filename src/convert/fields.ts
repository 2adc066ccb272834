/**
 * Safe reads of parsed YAML, whose shape nobody has checked yet: every helper takes
 * `unknown` and returns a typed value or undefined, so malformed input is reported by the
 * caller with its field path and never crashes the conversion.
 */
export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export const obj = (v: unknown): Obj | undefined => (isObj(v) ? v : undefined);

export const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A number, or a numeric string (Kubernetes IntOrString fields arrive as either). */
export function num(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** `a.b`, `a[3]`, `a.b[0].c`: the path of a child field. */
export const child = (path: string, key: string | number): string =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;

/** Object keys other than the listed ones: the fields a mapping does not know. */
export const otherKeys = (o: Obj, known: readonly string[]): string[] => Object.keys(o).filter((k) => !known.includes(k));

/** The metadata every Kubernetes object carries, as far as conversion needs it. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
}

export function objectRef(o: Obj): ObjectRef | undefined {
  const meta = obj(o.metadata);
  const kind = str(o.kind);
  const name = str(meta?.name);
  if (kind === undefined || name === undefined) return undefined;
  return { apiVersion: str(o.apiVersion) ?? "", kind, name, namespace: str(meta?.namespace) };
}

/** `Rollout/shop`: how the report names a source object. */
export const label = (ref: { kind: string; name: string }): string => `${ref.kind}/${ref.name}`;
