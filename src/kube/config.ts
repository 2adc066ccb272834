/**
 * Loading a kubeconfig. The composition root calls this once and hands the result to
 * `createKubeClient`; nothing else touches @kubernetes/client-node's KubeConfig.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "./client-node.ts";

export type { KubeConfig };

export interface LoadKubeConfigOptions {
  /** A kubeconfig file; else $KUBECONFIG (a list, like kubectl), else the in-cluster service account, else ~/.kube/config. */
  path?: string | undefined;
  /** Switches to this context instead of the file's current-context. */
  context?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export function loadKubeConfig(pathOrOpts?: string | LoadKubeConfigOptions): KubeConfig {
  const opts: LoadKubeConfigOptions = typeof pathOrOpts === "string" ? { path: pathOrOpts } : (pathOrOpts ?? {});
  const env = opts.env ?? process.env;
  const kc = new KubeConfig();
  const home = env.HOME ?? homedir();
  const defaultFile = join(home, ".kube", "config");
  if (opts.path) {
    loadFiles(kc, [opts.path]);
  } else if (env.KUBECONFIG) {
    loadFiles(kc, env.KUBECONFIG.split(delimiter).filter(Boolean));
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
  } else if (existsSync(defaultFile)) {
    loadFiles(kc, [defaultFile]);
  } else {
    // The library would fall back to http://localhost:8080; aviary says what is missing instead.
    throw new Error(`no Kubernetes cluster configured: set KUBECONFIG, pass a kubeconfig path, create ${defaultFile}, or run in a cluster`);
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) throw new Error(`kubeconfig has no context named ${opts.context}`);
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new Error(`the kubeconfig's current context (${kc.getCurrentContext() || "unset"}) names no cluster`);
  return kc;
}

/**
 * Loads the first file and merges the rest as kubectl does with a KUBECONFIG list: the first
 * file's current-context wins, and so does the first definition of any name (the library's
 * own merge throws on duplicates instead).
 */
function loadFiles(kc: KubeConfig, files: string[]): void {
  files.forEach((file, i) => {
    if (!existsSync(file)) throw new Error(`kubeconfig ${file} does not exist`);
    if (i === 0) {
      kc.loadFromFile(file);
      return;
    }
    const more = new KubeConfig();
    more.loadFromFile(file);
    for (const c of more.clusters) if (!kc.getCluster(c.name)) kc.addCluster(c);
    for (const u of more.users) if (!kc.getUser(u.name)) kc.addUser(u);
    for (const c of more.contexts) if (!kc.getContextObject(c.name)) kc.addContext(c);
    if (!kc.currentContext) kc.setCurrentContext(more.currentContext);
  });
}

/** Builds a KubeConfig for a server without reading files (tests against a local server). */
export function kubeConfigFor(server: string, opts: { token?: string; skipTLSVerify?: boolean } = {}): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "target", server, skipTLSVerify: opts.skipTLSVerify ?? server.startsWith("http:") }],
    users: [{ name: "user", ...(opts.token ? { token: opts.token } : {}) }],
    contexts: [{ name: "target", cluster: "target", user: "user" }],
    currentContext: "target",
  });
  return kc;
}

/** The API server URL of the current context, for log lines. */
export const serverOf = (kc: KubeConfig): string => kc.getCurrentCluster()?.server ?? "(none)";
