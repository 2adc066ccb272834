import { tryParseDuration } from "../../api/duration.ts";
import { booleanOption, stringOption } from "../args.ts";
import { getCanary, resolveCanaryName } from "../canaries.ts";
import type { Command } from "../command.ts";
import { exitCodeForPhase, UsageError } from "../exit.ts";
import { createProgressTracker } from "../progress.ts";
import { statusReport } from "../report.ts";
import { watchCanary } from "../watch.ts";

export const statusCommand: Command = {
  name: "status",
  summary: "Show a canary's state; with -w, follow the run line by line",
  args: "[name]",
  minArgs: 0,
  maxArgs: 1,
  description: [
    "Without a name, the only Canary in the namespace is shown.",
    "",
    "With -w, prints a line each time the phase, the weights or the failed checks change,",
    "  [12:00:31] Progressing | canary 20% | primary 80% | checks 0/5",
    "followed by the controller's message and the verdict of each check when they change, and",
    "ends once the run settles (Initialized, Succeeded or Failed). On a terminal a weight bar",
    "shows the split.",
    "",
    "On a step schedule (analysis.steps) it shows the steps, the step held with its pause left",
    "(`Step: 2 of 5 (25%), pause 40s left`) and each metric's tally against its failureLimit and",
    "consecutiveErrorLimit; the -w line ends with `| step 2/5 40s left`.",
    "",
    "Metrics with compare (the judge) print their verdict sentence, e.g.",
    "  fail   request-success-rate: 5xx: canary 2.6% vs primary 0.5% (ratio 5.2, 99% CI 2.4–11) > tolerance 1.2 (e-value 6.2e+14 ≥ 100)",
    "and how many windows of the run their test has counted so far.",
    "",
    "Exit status (for CI pipelines): 0 the canary has not failed (with -w: the run succeeded),",
    "1 the run Failed, 2 usage error, 3 the canary does not exist or the cluster could not be",
    "reached, 4 --timeout passed first, 130 interrupted.",
  ].join("\n"),
  examples: [
    "aviary status podinfo",
    "aviary status podinfo -w",
    "kubectl set image deploy/podinfo app=podinfo:6.1 && aviary status podinfo -w --next-run --timeout 15m",
  ],
  options: [
    { name: "watch", short: "w", kind: "boolean", description: "Follow the run until it settles" },
    { name: "follow", kind: "boolean", description: "With -w: keep watching after the run settles (until Ctrl-C)" },
    {
      name: "next-run",
      kind: "boolean",
      description: "With -w: ignore the outcome shown now and wait for the next run (right after changing the Deployment)",
    },
    { name: "timeout", kind: "string", placeholder: "<duration>", description: "With -w: give up after this long (e.g. 15m), exit status 4" },
  ],
  async run(inv) {
    const { io, values } = inv;
    const timeoutText = stringOption(values, "timeout");
    let timeoutMs: number | undefined;
    if (timeoutText !== undefined) {
      const parsed = tryParseDuration(timeoutText);
      if (!parsed.ok || parsed.ms <= 0) throw new UsageError(`--timeout ${parsed.ok ? "must be longer than 0" : parsed.error}`);
      timeoutMs = parsed.ms;
    }
    const follow = booleanOption(values, "follow");
    const nextRun = booleanOption(values, "next-run");
    const watch = booleanOption(values, "watch") || follow || nextRun || timeoutMs !== undefined;
    const session = await inv.connect();
    try {
      const name = await resolveCanaryName(session, inv.positionals[0], io.signal);
      if (!watch) {
        const canary = await getCanary(session, name, io.signal);
        io.stdout.write(statusReport(canary, io.now(), { bar: io.stdout.isTTY }));
        return exitCodeForPhase(canary.status?.phase);
      }
      const tracker = createProgressTracker({ bar: io.stdout.isTTY, follow, nextRun });
      return await watchCanary({ io, session, name, tracker, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
    } finally {
      await session.close();
    }
  },
};
