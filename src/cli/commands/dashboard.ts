import { booleanOption, stringOption } from "../args.ts";
import type { Command } from "../command.ts";
import { EXIT_INTERRUPTED, EXIT_UNAVAILABLE, UsageError } from "../exit.ts";
import { warningsTo } from "../watch.ts";

const DEFAULT_PORT = 8080;
const DEFAULT_ADDRESS = "127.0.0.1";

export const dashboardCommand: Command = {
  name: "dashboard",
  summary: "Serve a live web page of the canaries: traffic, checks, events, actions",
  args: "",
  minArgs: 0,
  maxArgs: 0,
  description: [
    "Serves a page at http://<address>:<port>/ that lists the Canaries of the namespace (all with -A),",
    "and for each one charts the primary/canary weights of the current and last runs, each check's",
    "measured values against their ranges, the verdict, the Kubernetes Events and the generated",
    "objects. It updates live from one watch per kind, however many browsers are open.",
    "",
    "It runs as you: it reads with your kubeconfig's credentials, and its promote, abort, retry,",
    "pause and resume buttons write the same annotations as those commands, so RBAC decides; a",
    "refused request shows the API server's answer. History (weights and measurements over time)",
    "is gathered from the moment it starts, seeded from the Canaries' Events.",
    "",
    "Listens on 127.0.0.1 unless --address says otherwise; Ctrl-C stops it.",
  ].join("\n"),
  examples: ["aviary dashboard", "aviary dashboard -A --port 9000", "aviary dashboard -n shop --address 0.0.0.0"],
  options: [
    { name: "port", kind: "string", placeholder: "<port>", description: `Port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)` },
    { name: "address", kind: "string", placeholder: "<ip>", description: `Address to listen on (default ${DEFAULT_ADDRESS})` },
    { name: "all-namespaces", short: "A", kind: "boolean", description: "Show the canaries of every namespace" },
  ],
  async run(inv) {
    const { io, values } = inv;
    const portText = stringOption(values, "port") ?? String(DEFAULT_PORT);
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got "${portText}"`);
    const address = stringOption(values, "address") ?? DEFAULT_ADDRESS;
    const all = booleanOption(values, "all-namespaces");
    const session = await inv.connect();
    const { startDashboard } = await import("../../dashboard/run.ts");
    let dashboard;
    try {
      dashboard = await startDashboard({
        client: session.client,
        api: session.api,
        namespace: all ? undefined : session.namespace,
        host: address,
        port,
        logger: warningsTo(io.stderr),
        actions: true,
      });
    } catch (err) {
      await session.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EADDRINUSE") {
        io.stderr.write(`error: ${address}:${port} is already in use; choose another --port\n`);
        return EXIT_UNAVAILABLE;
      }
      throw err;
    }
    io.stdout.write(`aviary dashboard for ${all ? "all namespaces" : `namespace ${session.namespace}`}: ${dashboard.url}\n`);
    io.stdout.write("Ctrl-C stops it.\n");
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await dashboard.stop();
    await session.close();
    return EXIT_INTERRUPTED;
  },
};
