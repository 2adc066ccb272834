/**
 * The three parts of @kubernetes/client-node that aviary uses — KubeConfig (kubeconfig
 * loading and per-request authentication), RequestContext and the fetch-based HTTP library —
 * loaded without the rest of the package.
 *
 * The package's entry point loads every generated API class and model of Kubernetes, about
 * 50 MiB of resident memory that aviary never touches (it speaks JSON to the API server
 * itself). Its config module pulls them in through one re-export file, `gen/index.js`, for
 * two names. A resolve hook hands that one import, from that one module, a smaller file
 * that re-exports the same names from the same modules; everything else resolves as usual.
 * Should a release move these files, the deep imports fail and the whole package is loaded
 * instead: more memory, same behaviour.
 */
import { registerHooks } from "node:module";
import type { IsomorphicFetchHttpLibrary as FetchLibrary, KubeConfig as KubeConfigClass, RequestContext as RequestContextClass } from "@kubernetes/client-node";

const PACKAGE_CONFIG = "/@kubernetes/client-node/dist/config.js";

/** The re-exports config.js needs from gen/index.js, from the same modules (same class identities). */
function slimGenIndex(configUrl: string): string {
  const at = (p: string) => JSON.stringify(new URL(`./gen/${p}`, configUrl).href);
  const source = [
    `export * from ${at("http/http.js")};`,
    `export * from ${at("auth/auth.js")};`,
    `export { createConfiguration } from ${at("configuration.js")};`,
    `export * from ${at("servers.js")};`,
  ].join("\n");
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

registerHooks({
  resolve(specifier, context, next) {
    if (specifier === "./gen/index.js" && context.parentURL?.endsWith(PACKAGE_CONFIG)) {
      return { url: slimGenIndex(context.parentURL), shortCircuit: true };
    }
    return next(specifier, context);
  },
});

interface ClientNodeParts {
  KubeConfig: typeof KubeConfigClass;
  RequestContext: typeof RequestContextClass;
  IsomorphicFetchHttpLibrary: typeof FetchLibrary;
}

async function load(): Promise<ClientNodeParts> {
  try {
    const [config, http, fetchLib] = await Promise.all([
      import("@kubernetes/client-node/dist/config.js"),
      import("@kubernetes/client-node/dist/gen/http/http.js"),
      import("@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js"),
    ]);
    return { KubeConfig: config.KubeConfig, RequestContext: http.RequestContext, IsomorphicFetchHttpLibrary: fetchLib.IsomorphicFetchHttpLibrary } as ClientNodeParts;
  } catch {
    return import("@kubernetes/client-node");
  }
}

export const { KubeConfig, RequestContext, IsomorphicFetchHttpLibrary } = await load();
export type KubeConfig = KubeConfigClass;
export type RequestContext = RequestContextClass;
