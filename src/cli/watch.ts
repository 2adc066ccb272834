/**
 * `status -w`: follows one Canary with an informer (list, then watch from that version;
 * reconnects, and relists after 410 Gone) and prints what the progress tracker says about
 * each version of it, until the run settles, the Canary goes away, the timeout passes, or
 * the user presses Ctrl-C.
 */
import type { Canary } from "../api/types.ts";
import { createInformer } from "../kube/informer.ts";
import type { Fields, Logger } from "../observability/logger.ts";
import { formatDuration } from "../api/duration.ts";
import { getCanary } from "./canaries.ts";
import type { CliIO, Output, Session } from "./command.ts";
import { EXIT_INTERRUPTED, EXIT_TIMEOUT, EXIT_UNAVAILABLE } from "./exit.ts";
import { phaseLabel } from "./progress.ts";
import type { ProgressTracker, WatchStep } from "./progress.ts";

export interface WatchCanaryOptions {
  io: CliIO;
  session: Session;
  name: string;
  tracker: ProgressTracker;
  /** Give up (EXIT_TIMEOUT) after this long; no limit when absent. */
  timeoutMs?: number;
}

export async function watchCanary(opts: WatchCanaryOptions): Promise<number> {
  const { io, session, name, tracker } = opts;
  const ref = `${session.namespace}/${name}`;
  const first = await getCanary(session, name, io.signal);
  let phase = first.status?.phase;
  const print = (step: WatchStep) => {
    for (const line of step.lines) io.stdout.write(line + "\n");
  };
  const initial = tracker.observe(first, io.now());
  print(initial);
  if (initial.exitCode !== undefined) return initial.exitCode;
  if (io.signal.aborted) return EXIT_INTERRUPTED;

  return new Promise<number>((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const informer = createInformer<Canary>({
      client: session.client,
      ...session.api.canary,
      namespace: session.namespace,
      fieldSelector: `metadata.name=${name}`,
      logger: warningsTo(io.stderr),
      onEvent: (event) => {
        if (done) return;
        if (event.type === "deleted") return gone();
        phase = event.object.status?.phase;
        const step = tracker.observe(event.object, io.now());
        print(step);
        if (step.exitCode !== undefined) finish(step.exitCode);
      },
    });
    const onAbort = () => finish(EXIT_INTERRUPTED);
    function gone() {
      io.stderr.write(`canary ${ref} was deleted\n`);
      finish(EXIT_UNAVAILABLE);
    }
    function finish(code: number) {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      io.signal.removeEventListener("abort", onAbort);
      void informer.stop().then(() => resolve(code));
    }
    io.signal.addEventListener("abort", onAbort, { once: true });
    if (opts.timeoutMs !== undefined) {
      const ms = opts.timeoutMs;
      timer = setTimeout(() => {
        io.stderr.write(`timed out after ${formatDuration(ms)} waiting for ${ref} to settle (phase ${phaseLabel(phase)})\n`);
        finish(EXIT_TIMEOUT);
      }, ms);
    }
    informer.start();
    // Deleted between the first read and the informer's list: no event will ever say so.
    informer.waitForSync(io.signal).then(
      () => {
        if (!done && informer.get(session.namespace, name) === undefined) gone();
      },
      () => {}, // interrupted or stopped first: finish() has already run or will
    );
  });
}

/**
 * The informer reports trouble (a dropped watch it is retrying) through a Logger; on a
 * terminal that is a short warning on stderr, and routine progress is not shown at all.
 */
export function warningsTo(out: Output): Logger {
  const line = (msg: string, fields?: Fields) => {
    const err = fields?.err;
    const detail = err instanceof Error ? `: ${err.message}` : "";
    const retry = typeof fields?.retryInMs === "number" ? ` (retrying in ${formatDuration(fields.retryInMs)})` : "";
    out.write(`warning: ${msg}${detail}${retry}\n`);
  };
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: line,
    error: line,
    child: () => logger,
  };
  return logger;
}
