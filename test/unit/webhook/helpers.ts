/** Shared builders for the webhook tests: AdmissionReviews, a quiet logger, an HTTPS client. */
import { request as httpsRequest } from "node:https";
import type { Agent } from "node:https";
import type { TLSSocket } from "node:tls";
import type { KubeObject } from "../../../src/kube/types.ts";
import type { AdmissionOperation, AdmissionRequest, GroupVersionKind } from "../../../src/webhook/admission.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import type { Logger } from "../../../src/observability/logger.ts";

export const DEPLOYMENT_GVK: GroupVersionKind = { group: "apps", version: "v1", kind: "Deployment" };

export function collectingLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const raw: string[] = [];
  const log = createLogger({ level: "debug", write: (l) => raw.push(l) });
  return { log, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export const quietLogger = (): Logger => createLogger({ level: "error", write: () => {} });

let uidCounter = 0;
export function admissionRequest(
  operation: AdmissionOperation,
  kind: GroupVersionKind,
  object: KubeObject | null,
  oldObject: KubeObject | null,
  extra: Partial<AdmissionRequest> = {},
): AdmissionRequest {
  const meta = (object ?? oldObject)?.metadata;
  return {
    uid: `uid-${++uidCounter}`,
    kind,
    resource: { group: kind.group, version: kind.version, resource: kind.kind.toLowerCase() + "s" },
    operation,
    name: meta?.name,
    namespace: meta?.namespace,
    userInfo: { username: "jane@example.com", groups: ["system:authenticated"] },
    object,
    oldObject,
    ...extra,
  };
}

export function review(request: AdmissionRequest): Record<string, unknown> {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request };
}

export function deployment(name: string, opts: { replicas?: number; image?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name,
      namespace: "default",
      resourceVersion: "100",
      generation: 3,
      labels: opts.labels ?? { app: name },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      replicas: opts.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image: opts.image ?? "ghcr.io/stefanprodan/podinfo:6.0.0", ports: [{ containerPort: 9898 }] }] },
      },
    },
    status: { replicas: opts.replicas ?? 3 },
  };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => unknown;
  peerFingerprint: string;
}

export interface PostOptions {
  ca: string;
  agent?: Agent | false;
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
  maxVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
}

/** One HTTPS request to 127.0.0.1:port, verifying the server against `ca`. */
export function send(port: number, body: string | Buffer | undefined, opts: PostOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        path: opts.path ?? "/validate/test",
        method: opts.method ?? "POST",
        ca: opts.ca,
        agent: opts.agent ?? false,
        minVersion: opts.minVersion,
        maxVersion: opts.maxVersion,
        headers: { "content-type": "application/json", ...(body !== undefined ? { "content-length": String(Buffer.byteLength(body)) } : {}), ...opts.headers },
        timeout: 10_000,
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate?.().fingerprint256 ?? "";
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text), peerFingerprint: fingerprint });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(body);
  });
}
