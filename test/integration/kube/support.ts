/** Shared set-up for the kube layer's integration tests: a client on $KUBECONFIG and a scratch CRD. */
import { randomBytes } from "node:crypto";
import { createKubeClient } from "../../../src/kube/client.ts";
import type { ClusterClient, KubeClientOptions } from "../../../src/kube/client.ts";
import { loadKubeConfig } from "../../../src/kube/config.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import type { Logger } from "../../../src/observability/logger.ts";
import { eventually, requireKubeconfig } from "../../support/kubectl.ts";

export function clusterClient(opts: KubeClientOptions = {}): ClusterClient {
  return createKubeClient(loadKubeConfig(requireKubeconfig()), { timeoutMs: 15_000, ...opts });
}

/** Quiet unless AVIARY_TEST_LOGS is set; always kept for assertions. */
export function testLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level: "debug",
    write: (line) => {
      lines.push(line);
      if (process.env.AVIARY_TEST_LOGS) process.stderr.write(`  [log] ${line}\n`);
    },
  });
  return Object.assign(logger, { lines });
}

export const suffix = (): string => randomBytes(3).toString("hex");

export interface ScratchCrd {
  group: string;
  plural: string;
  kind: string;
  apiVersion: string;
  remove(): Promise<void>;
}

/**
 * Installs a namespaced CRD with a status subresource and open schemas, unique to this run
 * (CRDs are cluster-wide and other suites run in parallel), and waits until it is served.
 */
export async function installScratchCrd(client: ClusterClient): Promise<ScratchCrd> {
  const id = suffix();
  const group = "it.aviary.dev";
  const plural = `widgets${id}`;
  const kind = `Widget${id.toUpperCase().replace(/[0-9]/g, (d) => "ABCDEFGHIJ"[Number(d)]!)}`;
  const open = { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  await client.create({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { plural, singular: `widget${id}`, kind, listKind: `${kind}List` },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: "object", properties: { spec: open, status: open } } },
        },
      ],
    },
  });
  await eventually(`CRD ${plural}.${group} to be served`, async () => ((await client.crdInstalled(group, plural)) ? true : undefined), 30_000);
  return {
    group,
    plural,
    kind,
    apiVersion: `${group}/v1`,
    remove: async () => {
      await client.delete({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: `${plural}.${group}` });
    },
  };
}
