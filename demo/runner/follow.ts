/**
 * Follows one Canary until a condition holds, printing the timeline as it goes and a
 * heartbeat when nothing changed for a while (a demo is never silent for minutes).
 */
import { API_VERSION, CONDITION_PROMOTED, KIND_CANARY } from "../../src/api/types.ts";
import type { Canary, CanaryPhase } from "../../src/api/types.ts";
import { formatClock } from "../../src/cli/format.ts";
import { isActive, phaseLabel } from "../../src/cli/progress.ts";
import type { KubeClient, KubeObject } from "../../src/kube/types.ts";
import type { CanaryEvent, Timeline } from "../timeline.ts";

export interface FollowOptions {
  kube: Pick<KubeClient, "get" | "list">;
  namespace: string;
  name: string;
  timeline: Timeline;
  write: (line: string) => void;
  /** Stop once this holds; `sawActive` tells whether a run was seen under way. */
  until: (canary: Canary, sawActive: boolean) => boolean;
  /** What the reader is waiting for, for the heartbeat and the timeout message. */
  waitingFor: string;
  timeoutMs: number;
  heartbeatMs?: number;
  everyMs?: number;
  signal?: AbortSignal;
  now?: () => Date;
}

export class FollowTimeoutError extends Error {
  readonly retryable = false;
  readonly last: Canary | undefined;
  constructor(message: string, last: Canary | undefined) {
    super(message);
    this.name = "FollowTimeoutError";
    this.last = last;
  }
}

type TimedEvent = KubeObject & CanaryEvent & {
  lastTimestamp?: string;
  eventTime?: string;
  firstTimestamp?: string;
};

const timeOf = (e: TimedEvent): string => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? "";

export async function followCanary(opts: FollowOptions): Promise<Canary> {
  const now = opts.now ?? (() => new Date());
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const started = now().getTime();
  let lastPrinted = started;
  let sawActive = false;
  let last: Canary | undefined;
  for (;;) {
    opts.signal?.throwIfAborted();
    const signal = AbortSignal.any([AbortSignal.timeout(10_000), ...(opts.signal ? [opts.signal] : [])]);
    const canary = await opts.kube
      .get<Canary>({ apiVersion: API_VERSION, kind: KIND_CANARY, namespace: opts.namespace, name: opts.name }, { signal })
      .catch(() => undefined);
    const time = now();
    if (canary) {
      last = canary;
      const events = (await opts.kube
        .list<TimedEvent>("v1", "Event", opts.namespace, {
          fieldSelector: `involvedObject.kind=${KIND_CANARY},involvedObject.name=${opts.name}`,
          signal,
        })
        .catch(() => [])).sort((a, b) => timeOf(a).localeCompare(timeOf(b)));
      const lines = opts.timeline.observe(canary, events, time);
      for (const line of lines) opts.write(line);
      if (lines.length > 0) lastPrinted = time.getTime();
      if (isActive(canary.status?.phase)) sawActive = true;
      if (opts.until(canary, sawActive)) return canary;
    }
    if (time.getTime() - lastPrinted >= heartbeatMs) {
      opts.write(heartbeat(last?.status?.phase, conditionMessage(last), opts.waitingFor, time));
      lastPrinted = time.getTime();
    }
    if (time.getTime() - started > opts.timeoutMs) {
      throw new FollowTimeoutError(`gave up after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${opts.waitingFor} (phase ${phaseLabel(last?.status?.phase)})`, last);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 250));
  }
}

function conditionMessage(canary: Canary | undefined): string {
  return canary?.status?.conditions?.find((c) => c.type === CONDITION_PROMOTED)?.message ?? "";
}

/** `[12:00:46] … still Progressing (waiting for promotion): <what the controller says>` */
export function heartbeat(phase: CanaryPhase | undefined, message: string, waitingFor: string, time: Date): string {
  const what = message === "" ? "" : `: ${message}`;
  return `[${formatClock(time)}] … still ${phaseLabel(phase)} (waiting for ${waitingFor})${what}`;
}
