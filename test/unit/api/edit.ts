/** Edits a JSON document by a dotted path (`spec.analysis.metrics.0.name`), for test tables. */

type Container = Record<string, unknown> | unknown[];

function step(container: Container, key: string): unknown {
  return Array.isArray(container) ? container[Number(key)] : container[key];
}

function parentOf(doc: unknown, path: string): [Container, string] {
  const keys = path.split(".");
  const last = keys.pop()!;
  let node = doc;
  for (const key of keys) {
    if (typeof node !== "object" || node === null) throw new Error(`no container at ${key} of ${path}`);
    let next = step(node as Container, key);
    if (next === undefined) {
      next = {};
      (node as Record<string, unknown>)[key] = next;
    }
    node = next;
  }
  if (typeof node !== "object" || node === null) throw new Error(`no container for ${path}`);
  return [node as Container, last];
}

/** Returns `doc` with `path` set to `value` (`undefined` deletes the field). */
export function edit<T>(doc: T, path: string, value: unknown): T {
  const [parent, key] = parentOf(doc, path);
  if (Array.isArray(parent)) {
    if (value === undefined) parent.splice(Number(key), 1);
    else parent[Number(key)] = value;
  } else if (value === undefined) {
    delete parent[key];
  } else {
    parent[key] = value;
  }
  return doc;
}

/** Several edits at once, applied in order. */
export function edits<T>(doc: T, changes: Record<string, unknown>): T {
  for (const [path, value] of Object.entries(changes)) edit(doc, path, value);
  return doc;
}
