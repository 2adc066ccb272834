/**
 * The chaos driver: at seeded random moments it does one of four things a real cluster does
 * to a controller — the leading aviary replica is SIGKILLed, kube-apiserver is restarted,
 * etcd is restarted, or an object aviary generated is deleted by hand — in rounds that hold
 * each of the four once in a random order, and records each.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execFile } from "node:child_process";
import { kubectl } from "../support/kubectl.ts";
import { sleep } from "../support/peers.ts";
import type { ChaosEnvironment } from "./environment.ts";

const CLUSTER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../hack/cluster");

export type ChaosKind = "kill-leader" | "restart-apiserver" | "restart-etcd" | "delete-object";
export const CHAOS_KINDS: readonly ChaosKind[] = ["kill-leader", "restart-apiserver", "restart-etcd", "delete-object"];

export interface ChaosAction {
  kind: ChaosKind;
  /** What was hit: a replica, a component, or `Kind/name`. */
  target: string;
  at: number;
  tookMs: number;
  error?: string;
}

export interface ChaosDriver {
  actions: ChaosAction[];
  stop(): Promise<void>;
}

export interface DriverOptions {
  env: ChaosEnvironment;
  apps: readonly string[];
  random: () => number;
  /** A pause of min..max ms between two actions. */
  pauseMs: [number, number];
}

function restartComponent(component: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile("bash", [CLUSTER, "restart", component], { timeout: 180_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`hack/cluster restart ${component}: ${err.message}\n${stdout}${stderr}`));
      else resolve();
    });
  });
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** The objects aviary generates for a Canary `app` with the gatewayapi provider. */
const generatedObjects = (app: string): string[] => [
  `deployment/${app}-primary`,
  `service/${app}`,
  `service/${app}-primary`,
  `service/${app}-canary`,
  `httproutes.gateway.networking.k8s.io/${app}`,
];

export function startChaosDriver(opts: DriverOptions): ChaosDriver {
  const { env, apps, random } = opts;
  const actions: ChaosAction[] = [];
  let running = true;

  const act = async (kind: ChaosKind): Promise<void> => {
    const at = Date.now();
    let target = "";
    try {
      switch (kind) {
        case "kill-leader": {
          const leader = await env.leader();
          const replica = env.replicas.find((r) => r.identity === leader) ?? pick(random, env.replicas);
          target = replica.identity;
          // A pod's container comes back after a moment; the Lease is left to expire.
          await replica.kill(1000 + Math.floor(random() * 3000));
          break;
        }
        case "restart-apiserver":
          target = "kube-apiserver";
          await restartComponent("kube-apiserver");
          break;
        case "restart-etcd":
          target = "etcd";
          await restartComponent("etcd");
          break;
        case "delete-object": {
          target = pick(random, generatedObjects(pick(random, apps)));
          const r = await kubectl(["-n", env.namespace, "delete", target, "--wait=false", "--ignore-not-found"]);
          if (r.code !== 0) throw new Error(r.stderr.trim());
          break;
        }
      }
      actions.push({ kind, target, at, tookMs: Date.now() - at });
    } catch (err) {
      actions.push({ kind, target, at, tookMs: Date.now() - at, error: err instanceof Error ? err.message : String(err) });
    }
  };

  // Rounds of all four kinds in a random order: every run meets each of them.
  const rounds: ChaosKind[] = [];
  const next = (): ChaosKind => {
    if (rounds.length === 0) rounds.push(...shuffled(random, CHAOS_KINDS));
    return rounds.shift() as ChaosKind;
  };
  const loop = (async () => {
    while (running) {
      const [min, max] = opts.pauseMs;
      const until = Date.now() + min + random() * (max - min);
      while (running && Date.now() < until) await sleep(250);
      if (!running) break;
      await act(next());
    }
  })();

  return {
    actions,
    async stop() {
      running = false;
      await loop;
    },
  };
}
