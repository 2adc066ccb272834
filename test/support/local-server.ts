/**
 * The one local HTTP(S) server of the unit tier: listens on 127.0.0.1, records every request,
 * and answers as the test's handler says (a JSON body, raw text, a status, headers, or
 * never, for timeouts). Metric providers, notifiers and forward-proxy tests use it; the
 * Kubernetes client's wire tests use test/unit/kube/local-server.ts, which speaks the API
 * server's own paths on top of plain routes.
 */
import http from "node:http";
import https from "node:https";
import { generateKeyPairSync } from "node:crypto";
import type { AddressInfo } from "node:net";
import forge from "node-forge";

export interface RecordedRequest {
  method: string;
  /** The request target as sent: a path, or an absolute URL when it came through a proxy. */
  target: string;
  path: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON. */
  json(): unknown;
}

export interface Reply {
  status?: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (for malformed answers and plain-text endpoints). */
  text?: string;
  headers?: Record<string, string>;
  /** Never answer (for timeouts). */
  hang?: boolean;
}

export type Handler = (req: RecordedRequest) => Reply;

export interface LocalServer {
  /** `http(s)://127.0.0.1:<port>` */
  url: string;
  /** The same as `url`. */
  origin: string;
  requests: RecordedRequest[];
  /** Replaces the handler, e.g. per test. */
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startLocalServer(handler: Handler = () => ({ status: 200, text: "ok" }), opts: { tls?: boolean } = {}): Promise<LocalServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const target = req.url ?? "/";
      const url = new URL(target, "http://127.0.0.1");
      const recorded: RecordedRequest = { method: req.method ?? "", target, path: url.pathname, url, headers: req.headers, body, json: () => JSON.parse(body) as unknown };
      requests.push(recorded);
      const reply = current(recorded);
      if (reply.hang) {
        hanging.add(res);
        return;
      }
      const json = reply.text === undefined && reply.body !== undefined;
      res.writeHead(reply.status ?? 200, { "content-type": json ? "application/json" : "text/plain", ...reply.headers });
      res.end(reply.text ?? (json ? JSON.stringify(reply.body) : ""));
    });
  };
  const server = opts.tls ? https.createServer(selfSignedCert(), listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
  return {
    url: origin,
    origin,
    requests,
    handle: (h) => {
      current = h;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A throwaway self-signed certificate for 127.0.0.1 (key from node:crypto, cert signed with node-forge). */
function selfSignedCert(): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const pubPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pubPem);
  cert.serialNumber = "01";
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 3_600_000);
  const attrs = [{ name: "commonName", value: "127.0.0.1" }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { key: keyPem, cert: forge.pki.certificateToPem(cert) };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
