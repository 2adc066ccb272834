/**
 * A cluster stand-in for informer tests: the test scripts each list, and pushes each watch
 * stream's events, errors and end.
 */
import type { ListResult, WatchEvent, WatchOptions } from "../../src/kube/client.ts";
import { KubeApiError } from "../../src/kube/types.ts";
import type { KubeObject } from "../../src/kube/types.ts";

export type Step = { event: WatchEvent } | { error: Error } | { end: true };

/** One scripted watch stream: the test pushes events, an error, or the end. */
export class ScriptedWatch {
  private steps: Step[] = [];
  private wake: (() => void) | undefined;
  readonly opts: WatchOptions;
  constructor(opts: WatchOptions) {
    this.opts = opts;
  }
  push(step: Step) {
    this.steps.push(step);
    this.wake?.();
  }
  async *run(): AsyncGenerator<WatchEvent, void, void> {
    const signal = this.opts.signal;
    for (;;) {
      while (this.steps.length === 0) {
        if (signal?.aborted) throw new KubeApiError("watch: aborted", 0, "Aborted");
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          signal?.addEventListener("abort", () => resolve(), { once: true });
        });
      }
      const step = this.steps.shift()!;
      if ("end" in step) return;
      if ("error" in step) throw step.error;
      yield step.event;
    }
  }
}

/** A ClusterClient stand-in whose lists and watches the test scripts. */
export function scriptedClient() {
  const lists: Array<ListResult<KubeObject> | Error> = [];
  const watches: ScriptedWatch[] = [];
  let listCalls = 0;
  return {
    lists,
    watches,
    listCalls: () => listCalls,
    client: {
      async *listPages<T extends KubeObject>(): AsyncGenerator<ListResult<T>, void, void> {
        listCalls++;
        const next = lists.shift();
        if (!next) throw new Error("no list scripted");
        if (next instanceof Error) throw next;
        yield next as ListResult<T>;
      },
      watch<T extends KubeObject>(_apiVersion: string, _kind: string, _ns: string | undefined, opts: WatchOptions = {}) {
        const w = new ScriptedWatch(opts);
        watches.push(w);
        return w.run() as AsyncGenerator<WatchEvent<T>, void, void>;
      },
    },
  };
}

export const until = async (what: string, cond: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};
