/**
 * The CLI's connection to a cluster: the kubeconfig the way kubectl finds it (--kubeconfig,
 * else $KUBECONFIG, else in-cluster, else ~/.kube/config), the context's namespace unless
 * -n says otherwise, and a client whose every call times out.
 */
import { createKubeClient } from "../kube/client.ts";
import { loadKubeConfig } from "../kube/config.ts";
import type { Session, SessionOptions } from "./command.ts";
import { CliError, EXIT_UNAVAILABLE, UsageError } from "./exit.ts";
import { parseApiGroup } from "../api/groups.ts";
import type { ApiGroup } from "../api/groups.ts";

export const DEFAULT_NAMESPACE = "default";

export function openSession(opts: SessionOptions, env: NodeJS.ProcessEnv = process.env): Session {
  let api: ApiGroup;
  try {
    api = parseApiGroup(opts.apiGroup ?? env.AVIARY_API_GROUP, opts.apiGroup !== undefined ? "--api-group" : "AVIARY_API_GROUP");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let kubeConfig;
  try {
    kubeConfig = loadKubeConfig({ path: opts.kubeconfig, context: opts.context, env });
  } catch (err) {
    throw new CliError(`cannot load a kubeconfig: ${err instanceof Error ? err.message : String(err)}`, EXIT_UNAVAILABLE);
  }
  const contextNamespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
  const client = createKubeClient(kubeConfig, { timeoutMs: opts.requestTimeoutMs, userAgent: "aviary-cli", fieldManager: "aviary-cli" });
  return {
    client,
    namespace: opts.namespace || contextNamespace || DEFAULT_NAMESPACE,
    api,
    close: () => client.close(),
  };
}
