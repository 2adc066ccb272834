/**
 * Where a run's connections go, when that is not where its command's address resolves to.
 * For running the load tester outside a cluster (a local demo, tests): an in-cluster Service
 * address written in a webhook command (`podinfo-canary.test:9898`) is mapped to a local
 * address that plays that Service (`127.0.0.1:40123`). The command, the target policy and the
 * reports keep the address as written; for HTTP the Host header keeps it too, as the Service
 * would have been called. Inside a cluster the map is empty and DNS decides.
 */
import type { LoadPlan } from "./plan.ts";

/** `host:port` as written in commands -> `host:port` to connect to. Keys are matched without case. */
export type AddressMap = Readonly<Record<string, string>>;

function defaultPort(protocol: string): string {
  return protocol === "https:" ? "443" : "80";
}

function lookup(map: AddressMap, host: string, port: string): string | undefined {
  const key = `${host}:${port}`.toLowerCase();
  for (const [from, to] of Object.entries(map)) if (from.toLowerCase() === key) return to;
  return undefined;
}

/** The plan with its connection address replaced when the map names it; unchanged otherwise. */
export function mapAddress(plan: LoadPlan, map: AddressMap): LoadPlan {
  if (Object.keys(map).length === 0) return plan;
  const target = plan.target;
  if (target.kind === "http") {
    const to = lookup(map, target.url.hostname, target.url.port || defaultPort(target.url.protocol));
    if (to === undefined) return plan;
    const url = new URL(target.url.href);
    url.host = to;
    const headers = { host: target.url.host, ...target.headers };
    return { ...plan, target: { ...target, url, headers } };
  }
  const at = target.authority.lastIndexOf(":");
  const to = lookup(map, target.authority.slice(0, at).replace(/^\[|\]$/g, ""), target.authority.slice(at + 1));
  return to === undefined ? plan : { ...plan, target: { ...target, authority: to } };
}

const HOST_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?):(\d{1,5})$/i;

/**
 * `from=to[,from=to…]`, each side `host:port` (`quiet-canary.test:80=127.0.0.1:40123`), as
 * the --map-address flag takes it. Throws an Error naming the entry and what is wrong.
 */
export function parseAddressMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const raw of text.split(",").map((e) => e.trim()).filter((e) => e !== "")) {
    const eq = raw.indexOf("=");
    if (eq < 0) throw new Error(`"${raw}" must be from=to, e.g. quiet-canary.test:80=127.0.0.1:40123`);
    const [from, to] = [raw.slice(0, eq).trim(), raw.slice(eq + 1).trim()];
    for (const [side, value] of [["from", from], ["to", to]] as const) {
      const m = HOST_PORT.exec(value);
      if (m === null || Number(m[3]) < 1 || Number(m[3]) > 65535) throw new Error(`"${raw}": ${side} "${value}" must be host:port with a port from 1 to 65535`);
    }
    map[from] = to;
  }
  return map;
}
