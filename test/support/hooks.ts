/** A local HTTP server that plays a Canary's webhooks; tests change its answers mid-run. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HookCall {
  path: string;
  body: { name?: string; namespace?: string; phase?: string; checksum?: string; metadata?: Record<string, string> };
  time: number;
}

export interface HookServer {
  url(path: string): string;
  calls: HookCall[];
  /** HTTP status answered per path (default 200). */
  status: Map<string, number>;
  close(): Promise<void>;
}

export async function startHookServer(): Promise<HookServer> {
  const calls: HookCall[] = [];
  const status = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      let body: HookCall["body"] = {};
      try { body = JSON.parse(Buffer.concat(chunks).toString("utf8")); } catch { /* recorded as empty */ }
      calls.push({ path, body, time: Date.now() });
      const code = status.get(path) ?? 200;
      res.statusCode = code;
      res.end(code < 300 ? "ok" : "refused by test");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    calls,
    status,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
