/**
 * A small HTTP server on 127.0.0.1 that answers the way the API server does for the paths
 * a test registers, and records every request. For unit tests of the client's wire format
 * and error handling; behaviour against the real API server is in test/integration/kube.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createClientOn } from "../../../src/kube/client.ts";
import type { ClusterClient, KubeClientOptions } from "../../../src/kube/client.ts";
import { kubeConfigFor } from "../../../src/kube/config.ts";
import { createTransport } from "../../../src/kube/transport.ts";
import type { TransportOptions } from "../../../src/kube/transport.ts";
import type { KubeTransport } from "../../../src/kube/transport.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export type Route = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface LocalServer {
  url: string;
  requests: RecordedRequest[];
  /** Routes by "METHOD /path" (exact) or by path alone (any method). */
  routes: Map<string, Route>;
  transport(opts?: { timeoutMs?: number }): KubeTransport;
  client(opts?: KubeClientOptions): ClusterClient;
  close(): Promise<void>;
}

export const json = (res: ServerResponse, status: number, body: unknown) => {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
};

export const statusBody = (code: number, reason: string, message: string) => ({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });

/** Discovery documents for core/v1 ConfigMaps and apps/v1 Deployments (with status and scale). */
export function serveDiscovery(server: LocalServer): void {
  server.routes.set("GET /api/v1", (_req, res) =>
    json(res, 200, {
      kind: "APIResourceList",
      groupVersion: "v1",
      resources: [
        { name: "configmaps", namespaced: true, kind: "ConfigMap", verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] },
        { name: "namespaces", namespaced: false, kind: "Namespace", verbs: ["get", "list"] },
        { name: "namespaces/status", namespaced: false, kind: "Namespace", verbs: ["get", "patch"] },
      ],
    }),
  );
  server.routes.set("GET /apis/apps/v1", (_req, res) =>
    json(res, 200, {
      kind: "APIResourceList",
      groupVersion: "apps/v1",
      resources: [
        { name: "deployments", namespaced: true, kind: "Deployment", verbs: ["get", "patch"] },
        { name: "deployments/status", namespaced: true, kind: "Deployment", verbs: ["get", "patch"] },
        { name: "deployments/scale", namespaced: true, kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch"] },
      ],
    }),
  );
}

export async function startLocalServer(): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  const routes = new Map<string, Route>();
  const transports: KubeTransport[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const recorded: RecordedRequest = { method: req.method ?? "GET", path: url.pathname, query: url.searchParams, headers: req.headers, body };
      requests.push(recorded);
      const route = routes.get(`${recorded.method} ${url.pathname}`) ?? routes.get(url.pathname);
      if (!route) {
        json(res, 404, statusBody(404, "NotFound", `the server could not find the requested resource (${recorded.method} ${url.pathname})`));
        return;
      }
      Promise.resolve(route(recorded, res)).catch((err: unknown) => json(res, 500, statusBody(500, "InternalError", String(err))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const makeTransport = (opts: TransportOptions = {}) => {
    const t = createTransport(kubeConfigFor(url), opts);
    transports.push(t);
    return t;
  };
  return {
    url,
    requests,
    routes,
    transport: makeTransport,
    client: (opts = {}) => createClientOn(makeTransport({
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      rateLimit: opts.rateLimit,
      onRateLimitWait: opts.onRateLimitWait,
    }), opts),
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
