/**
 * The input of a conversion: every object of every YAML document given, indexed so that a
 * Rollout can find the templates, Services and routes it names. Parsing never throws on
 * odd content: a document that is not a Kubernetes object is reported, not fatal.
 */
import { parseAllDocuments } from "yaml";
import type { Obj, ObjectRef } from "./fields.ts";
import { isObj, objectRef } from "./fields.ts";

export interface SourceObject {
  ref: ObjectRef;
  body: Obj;
  /** `shop.yaml#2`: where it came from, for messages. */
  origin: string;
}

export class InputError extends Error {}

export interface InputFile {
  /** A path, or "-" / "(stdin)" for standard input. */
  name: string;
  text: string;
}

/** Every object in the files; a `kind: List` is unpacked. Throws InputError on YAML syntax errors, naming file and line. */
export function readSources(files: readonly InputFile[]): SourceObject[] {
  const out: SourceObject[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(file.text, { prettyErrors: true });
    if (!Array.isArray(docs)) throw new InputError(`${file.name}: not YAML`);
    docs.forEach((doc, i) => {
      const error = doc.errors[0];
      if (error !== undefined) throw new InputError(`${file.name}: document ${i + 1}: ${error.message.split("\n")[0]}`);
      const value: unknown = doc.toJS({ maxAliasCount: 100 });
      const items = isObj(value) && value.kind === "List" && Array.isArray(value.items) ? value.items : [value];
      items.forEach((item: unknown) => {
        if (item === null || item === undefined) return;
        const ref = isObj(item) ? objectRef(item) : undefined;
        if (ref === undefined || !isObj(item)) throw new InputError(`${file.name}: document ${i + 1} is not a Kubernetes object (it needs kind and metadata.name)`);
        out.push({ ref, body: item, origin: `${file.name}#${i + 1}` });
      });
    });
  }
  return out;
}

export const ARGO_GROUP = "argoproj.io";

/** The objects of a conversion, found by kind and name. */
export class Sources {
  readonly objects: readonly SourceObject[];
  constructor(objects: readonly SourceObject[]) {
    this.objects = objects;
  }

  ofKind(kind: string): SourceObject[] {
    return this.objects.filter((o) => o.ref.kind === kind);
  }

  /** An object in `namespace`; an object without a namespace matches any (a manifest applied with -n). */
  find(kind: string, name: string, namespace: string | undefined): SourceObject | undefined {
    return this.objects.find(
      (o) => o.ref.kind === kind && o.ref.name === name && (o.ref.namespace === undefined || namespace === undefined || o.ref.namespace === namespace),
    );
  }
}
