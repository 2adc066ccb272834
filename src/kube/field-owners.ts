/**
 * Taking over the fields another controller owns on an object, so that aviary's later
 * server-side applies manage them as if aviary had written them.
 *
 * Server-side apply only removes a field that the applier owns and no longer sends. A field
 * another manager set (Flagger's client-side writes, operation Update) survives every apply
 * of aviary's: an env var removed from the target would stay on the adopted primary forever.
 * Moving those managers' field sets into aviary's Apply entry (what client-go's csaupgrade
 * does for kubectl) fixes that. Pure: managedFields in, managedFields out.
 */

/** One entry of `metadata.managedFields`. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
  subresource?: string;
}

/** A FieldsV1 tree: `{"f:spec": {"f:selector": {...}}, ".": {}}`. */
export type FieldSet = { [key: string]: FieldSet };

export interface TakeOverOptions {
  /** Whose fields are taken over (matched on `manager`; only main-resource Update entries). */
  from: (manager: string) => boolean;
  /** The manager that takes them: aviary's Apply entry, created when it has none. */
  to: string;
  /** The object's apiVersion, for a new entry. */
  apiVersion: string;
  /** The subtrees moved (`[["f:spec"]]`); everything else stays with its manager. */
  move: readonly (readonly string[])[];
  /** Subtrees never moved, inside `move` (`["f:spec", "f:replicas"]`: an autoscaler's). */
  keep?: readonly (readonly string[])[];
  /** The time recorded on the receiving entry. */
  now: string;
}

/** undefined is "no fields"; `{}` is a leaf field, owned. */
type MaybeSet = FieldSet | undefined;

function union(a: MaybeSet, b: MaybeSet): MaybeSet {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out: FieldSet = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = union(out[k], v)!;
  return out;
}

/** Splits `set` into the subtree at `path` and the rest. */
function cut(set: FieldSet, path: readonly string[]): { taken: MaybeSet; rest: MaybeSet } {
  const [head, ...tail] = path;
  if (head === undefined) return { taken: set, rest: undefined };
  const child = set[head];
  if (child === undefined) return { taken: undefined, rest: set };
  const inner = cut(child, tail);
  const rest: FieldSet = { ...set };
  if (inner.rest === undefined) delete rest[head];
  else rest[head] = inner.rest;
  return { taken: inner.taken === undefined ? undefined : { [head]: inner.taken }, rest: Object.keys(rest).length === 0 ? undefined : rest };
}

/** What of `set` is moved: the `move` subtrees, without the `keep` ones. */
function movable(set: FieldSet, opts: TakeOverOptions): { moved: MaybeSet; left: MaybeSet } {
  let moved: MaybeSet;
  let left: MaybeSet = set;
  for (const path of opts.move) {
    if (left === undefined) break;
    const { taken, rest } = cut(left, path);
    moved = union(moved, taken);
    left = rest;
  }
  for (const path of opts.keep ?? []) {
    if (moved === undefined) break;
    const { taken, rest } = cut(moved, path);
    moved = rest;
    left = union(left, taken);
  }
  return { moved, left };
}

/**
 * The managedFields with the matching managers' fields (under `move`, minus `keep`) moved to
 * `to`'s Apply entry; null when there is nothing to move.
 */
export function takeOverFields(entries: readonly ManagedFieldsEntry[], opts: TakeOverOptions): ManagedFieldsEntry[] | null {
  let gathered: MaybeSet;
  const out: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    const foreign = e.manager !== undefined && opts.from(e.manager) && e.operation === "Update" && (e.subresource ?? "") === "" && e.fieldsV1 !== undefined;
    if (!foreign) {
      out.push(e);
      continue;
    }
    const { moved, left } = movable(e.fieldsV1!, opts);
    gathered = union(gathered, moved);
    // An entry left owning nothing is dropped.
    if (left !== undefined) out.push({ ...e, fieldsV1: left });
  }
  if (gathered === undefined) return null;
  const i = out.findIndex((e) => e.manager === opts.to && e.operation === "Apply" && (e.subresource ?? "") === "");
  if (i >= 0) {
    out[i] = { ...out[i]!, fieldsV1: union(out[i]!.fieldsV1, gathered)!, time: opts.now };
  } else {
    out.push({ manager: opts.to, operation: "Apply", apiVersion: opts.apiVersion, time: opts.now, fieldsType: "FieldsV1", fieldsV1: gathered });
  }
  return out;
}
