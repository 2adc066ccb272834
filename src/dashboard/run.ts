/**
 * Starts a dashboard: the store's watches and the HTTP server on top. Used by `aviary
 * dashboard` (with the user's kubeconfig, actions as that user) and by the operator
 * (`--dashboard-port`, read-only unless `--dashboard-actions`).
 */
import type { ApiGroup } from "../api/groups.ts";
import type { ClusterClient } from "../kube/client.ts";
import type { Logger } from "../observability/logger.ts";
import { loadAssets } from "./assets.ts";
import { startDashboardServer } from "./server.ts";
import type { DashboardServer } from "./server.ts";
import { createDashboardStore } from "./store.ts";

export interface DashboardOptions {
  client: ClusterClient;
  /** One namespace, or all when undefined. */
  namespace: string | undefined;
  host: string;
  port: number;
  logger: Logger;
  /** Whether the page offers promote/abort/retry/pause/resume, written with `client`. */
  actions: boolean;
  readOnlyReason?: string;
  /** The group Canaries are served in; default aviary.dev. */
  api?: ApiGroup;
}

export interface RunningDashboard {
  server: DashboardServer;
  url: string;
  stop(): Promise<void>;
}

export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const assets = await loadAssets();
  const store = createDashboardStore({ client: opts.client, namespace: opts.namespace, logger: opts.logger, ...(opts.api ? { api: opts.api } : {}) });
  await store.start();
  let server: DashboardServer;
  try {
    server = await startDashboardServer({
      store,
      assets,
      host: opts.host,
      port: opts.port,
      logger: opts.logger,
      actions: opts.actions ? opts.client : undefined,
      ...(opts.api ? { api: opts.api } : {}),
      scope: opts.namespace === undefined ? "all namespaces" : `namespace ${opts.namespace}`,
      ...(opts.readOnlyReason ? { readOnlyReason: opts.readOnlyReason } : {}),
    });
  } catch (err) {
    await store.stop();
    throw err;
  }
  return {
    server,
    url: server.url,
    async stop() {
      await server.close();
      await store.stop();
    },
  };
}
