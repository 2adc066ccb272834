/**
 * The simulated mesh serves every series Prometheus reads from a single, stable target:
 * its own proxy-shaped series and, copied in at each scrape, the application metrics of
 * the demo app processes, each sample labelled with the `namespace` and `pod` its process
 * stands for (a PodMonitor's target labels, carried in the samples; the scrape config sets
 * honor_labels). A new version is then a new `pod` in the very next scrape, with none of
 * the delay of target discovery (Prometheus batches those updates for 5 s). Pure.
 */

export interface ExpositionPart {
  /** Prometheus text exposition (format 0.0.4). */
  text: string;
  /** Added to every sample of this part; a label the sample already has is kept. */
  labels?: Record<string, string>;
}

interface Family {
  help?: string;
  type?: string;
  samples: string[];
}

/**
 * One exposition from several: each metric family's HELP and TYPE once (the first part's),
 * then the samples of every part, with its labels added.
 */
export function mergeExpositions(parts: readonly ExpositionPart[]): string {
  const families = new Map<string, Family>();
  const familyOf = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) {
      f = { samples: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const part of parts) {
    let current: string | undefined;
    for (const raw of part.text.split("\n")) {
      const line = raw.trimEnd();
      if (line === "") continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        const [, kind, name] = meta as unknown as [string, "HELP" | "TYPE", string];
        const f = familyOf(name);
        if (kind === "HELP") f.help ??= line;
        else f.type ??= line;
        current = name;
        continue;
      }
      if (line.startsWith("#")) continue;
      const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
      if (name === undefined) continue;
      const family = current !== undefined && name.startsWith(current) ? current : name;
      familyOf(family).samples.push(withLabels(line, name, part.labels));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    if (f.samples.length === 0) continue;
    if (f.help) out.push(f.help);
    if (f.type) out.push(f.type);
    out.push(...f.samples);
  }
  return out.length === 0 ? "" : out.join("\n") + "\n";
}

/** A sample line with `labels` added after its name's `{` (or a new `{…}`). */
export function withLabels(line: string, name: string, labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return line;
  const rest = line.slice(name.length);
  const present = rest.startsWith("{") ? rest.slice(1, rest.indexOf("}")) : "";
  const added = entries.filter(([k]) => !new RegExp(`(^|,)\\s*${k}=`).test(present)).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (added.length === 0) return line;
  if (rest.startsWith("{}")) return `${name}{${added.join(",")}}${rest.slice(2)}`;
  if (rest.startsWith("{")) return `${name}{${added.join(",")},${rest.slice(1)}`;
  return `${name}{${added.join(",")}}${rest}`;
}

function escapeLabel(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}
