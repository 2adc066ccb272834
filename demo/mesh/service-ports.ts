/**
 * Local stand-ins for the canary's and the primary's Services (`<svc>-canary`,
 * `<svc>-primary`): one stable 127.0.0.1 port each, forwarding every request to whichever
 * application process currently plays that role, as the Service would to its pods. This is
 * how traffic the mesh does not generate itself (a load tester called by webhooks) reaches
 * the processes and is counted like the mesh's own requests.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Backend } from "./split.ts";

export interface ServicePorts {
  /** `127.0.0.1:port` per role. */
  addresses: Record<Backend, string>;
  close(): Promise<void>;
}

/** Where a role's requests go now (undefined: no process yet), and what to record once answered. */
export interface ServiceBackend {
  upstream(backend: Backend): string | undefined;
  record(backend: Backend, status: number, latencyMs: number): void;
  timeoutMs: number;
  agent: http.Agent;
}

export async function startServicePorts(b: ServiceBackend): Promise<ServicePorts> {
  const servers: Partial<Record<Backend, http.Server>> = {};
  const addresses: Partial<Record<Backend, string>> = {};
  for (const backend of ["primary", "canary"] as const) {
    const server = http.createServer((inbound, outbound) => forward(b, backend, inbound, outbound));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers[backend] = server;
    addresses[backend] = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    addresses: addresses as Record<Backend, string>,
    async close() {
      await Promise.all(Object.values(servers).map((s) => new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      })));
    },
  };
}

function forward(b: ServiceBackend, backend: Backend, inbound: http.IncomingMessage, outbound: http.ServerResponse): void {
  const base = b.upstream(backend);
  if (base === undefined) {
    inbound.resume();
    outbound.writeHead(503, { "content-type": "text/plain" }).end(`no ${backend} process is running\n`);
    return;
  }
  const started = performance.now();
  let recorded = false;
  const record = (status: number) => {
    if (recorded) return;
    recorded = true;
    b.record(backend, status, performance.now() - started);
  };
  const req = http.request(`${base}${inbound.url ?? "/"}`, { method: inbound.method, agent: b.agent, timeout: b.timeoutMs }, (res) => {
    const status = res.statusCode ?? 502;
    outbound.writeHead(status, res.headers);
    res.pipe(outbound);
    res.once("end", () => record(status));
    res.once("error", () => record(502));
  });
  // What a proxy answers when the upstream does not: 504 on timeout, 503 when unreachable.
  req.once("timeout", () => req.destroy(new Error("timeout")));
  req.once("error", (err) => {
    const status = err.message === "timeout" ? 504 : 503;
    record(status);
    if (!outbound.headersSent) outbound.writeHead(status).end();
    else outbound.destroy();
  });
  inbound.pipe(req);
}
