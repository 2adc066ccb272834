/**
 * The dashboard for the demo: served from the demo process itself (as `aviary dashboard`
 * would, with the same kubeconfig), on AVIARY_DEMO_DASHBOARD_PORT (default 8080), or on a
 * free port when that one is taken.
 */
import type { ClusterClient } from "../../src/kube/client.ts";
import type { Logger } from "../../src/observability/logger.ts";
import { startDashboard } from "../../src/dashboard/run.ts";
import type { RunningDashboard } from "../../src/dashboard/run.ts";

export async function startDemoDashboard(client: ClusterClient, namespace: string, logger: Logger, port: number): Promise<RunningDashboard> {
  const start = (p: number) => startDashboard({ client, namespace, host: "127.0.0.1", port: p, logger, actions: true });
  try {
    return await start(port);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    return start(0);
  }
}
