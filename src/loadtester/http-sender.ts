/**
 * Sends hey's requests with node:http(s): one keep-alive agent per run with a socket per
 * worker, redirects never followed, the answer's body read to the end (its time counts, as
 * in hey) and thrown away. Certificates are not verified, as hey does not: the point is
 * load on an in-cluster Service, often behind a self-signed certificate.
 */
import http from "node:http";
import https from "node:https";
import type { HttpRequestTarget } from "./plan.ts";
import type { Send, SendResult } from "./run.ts";

export interface HttpSender {
  send: Send;
  close(): void;
}

export function createHttpSender(target: HttpRequestTarget, concurrency: number): HttpSender {
  const secure = target.url.protocol === "https:";
  const agentOptions = { keepAlive: target.keepAlive, maxSockets: concurrency, maxFreeSockets: concurrency };
  const agent = secure ? new https.Agent({ ...agentOptions, rejectUnauthorized: false }) : new http.Agent(agentOptions);
  const request = secure ? https.request : http.request;
  const body = target.body === undefined ? undefined : Buffer.from(target.body);
  const headers: Record<string, string> = { "user-agent": "aviary-loadtester", ...target.headers };
  if (body !== undefined) headers["content-length"] = String(body.length);

  const send: Send = (signal, timedOut) =>
    new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const failed = (err: NodeJS.ErrnoException) => finish({ outcome: timedOut() ? "timeout" : classifyError(err) });
      const req = request(target.url, { method: target.method, headers, agent, signal }, (res) => {
        const status = res.statusCode ?? 0;
        res.on("error", failed);
        res.on("end", () => finish({ outcome: classifyStatus(status), code: String(status) }));
        res.resume();
      });
      req.on("error", failed);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

export function classifyStatus(status: number): string {
  if (status >= 500) return "http_5xx";
  if (status >= 400) return "http_4xx";
  return "ok";
}

export function classifyError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case "ECONNREFUSED":
      return "refused";
    case "ECONNRESET":
    case "EPIPE":
    case "ERR_STREAM_PREMATURE_CLOSE":
      return "reset";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "dns";
    case "ETIMEDOUT":
    case "ABORT_ERR":
      return "timeout";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "unreachable";
    default:
      if (err.code?.startsWith("ERR_TLS") || err.code?.includes("CERT")) return "tls";
      if (err.message === "socket hang up") return "reset";
      return "other";
  }
}
