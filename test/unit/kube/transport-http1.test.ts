import { strict as assert } from "node:assert";
import { createSecureServer } from "node:http2";
import type { Http2SecureServer } from "node:http2";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "../../../src/kube/client-node.ts";
import { createTransport } from "../../../src/kube/transport.ts";
import { generateCertBundle } from "../../../src/webhook/certs.ts";

describe("kube transport over TLS", () => {
  let server: Http2SecureServer;
  let url: string;
  let caCert: string;
  const versions: string[] = [];

  before(async () => {
    const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
    caCert = bundle.caCert;
    // Offers HTTP/2 through ALPN, as kube-apiserver does, and HTTP/1.1 to clients that ask for it.
    server = createSecureServer({ key: bundle.key, cert: bundle.cert, allowHTTP1: true }, (req, res) => {
      versions.push(req.httpVersion);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ gitVersion: "v1.36.3" }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("speaks HTTP/1.1 to a server that offers HTTP/2, on every request and stream", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "tls", server: url, caData: Buffer.from(caCert).toString("base64") }],
      users: [{ name: "user", token: "t" }],
      contexts: [{ name: "tls", cluster: "tls", user: "user" }],
      currentContext: "tls",
    });
    const transport = createTransport(kc);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await transport.request({ method: "GET", path: "/version", action: "get version" });
        assert.equal(res.status, 200);
      }
      const lines: string[] = [];
      for await (const line of transport.streamLines({ method: "GET", path: "/version", action: "watch version" }, { idleTimeoutMs: 5_000 })) lines.push(line);
      assert.equal(lines.length, 1);
    } finally {
      await transport.close();
    }
    assert.deepEqual(versions, ["1.1", "1.1", "1.1", "1.1"]);
  });
});
