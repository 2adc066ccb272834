import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { elideSecrets, postJson, redactAddress } from "../../../src/notifier/http.ts";
import { NotifierError } from "../../../src/notifier/types.ts";
import { closedPort, startLocalServer } from "../../support/local-server.ts";
import type { LocalServer } from "../../support/local-server.ts";

async function rejection(p: Promise<unknown>): Promise<NotifierError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof NotifierError, `expected a NotifierError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the promise to reject");
}

describe("notifier/http", () => {
  let server: LocalServer;
  beforeEach(async () => {
    server = await startLocalServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it("redacts URLs to scheme://host/…", () => {
    assert.equal(redactAddress("https://hooks.slack.com/services/T0/B0/secret?x=1"), "https://hooks.slack.com/…");
    assert.equal(redactAddress("http://user:pw@127.0.0.1:8080/p"), "http://127.0.0.1:8080/…");
    assert.equal(redactAddress("not a url /secret"), "(not a valid URL)");
  });

  it("elides secret values, longest first, and ignores trivial ones", () => {
    assert.equal(elideSecrets("a /hook/abcd?x and abcdef", ["/hook/abcd", "abcdef", "/", "ab"]), "a ***?x and ***");
  });

  it("posts JSON and resolves on 2xx", async () => {
    server.handle(() => ({ status: 202, text: "accepted" }));
    const res = await postJson({ url: `${server.origin}/x`, body: { a: 1 }, headers: { "x-extra": "1" }, timeoutMs: 2000 });
    assert.deepEqual(res, { status: 202, body: "accepted" });
    assert.equal(server.requests[0]!.body, '{"a":1}');
    assert.equal(server.requests[0]!.headers["x-extra"], "1");
  });

  it("reports an HTTP error with the status, a redacted URL and the body without secrets", async () => {
    const url = `${server.origin}/services/T0/B0/SECRETPATH`;
    server.handle(() => ({ status: 404, text: "no_service for /services/T0/B0/SECRETPATH (token tok-12345)" }));
    const err = await rejection(postJson({ url, body: {}, timeoutMs: 2000, secrets: ["tok-12345"] }));
    assert.equal(err.kind, "Http");
    assert.equal(err.status, 404);
    assert.equal(err.retryable, false);
    assert.equal(err.message, `POST ${server.origin}/…: HTTP 404: no_service for *** (token ***)`);
  });

  it("marks 429 and 5xx as retryable", async () => {
    server.handle(() => ({ status: 503 }));
    const err = await rejection(postJson({ url: `${server.origin}/x`, body: {}, timeoutMs: 2000 }));
    assert.equal(err.kind, "Http");
    assert.equal(err.retryable, true);
  });

  it("does not follow a redirect (it would turn the POST into a GET elsewhere)", async () => {
    server.handle((req) => (req.target === "/old" ? { status: 301, headers: { location: "/new" } } : { status: 200 }));
    const err = await rejection(postJson({ url: `${server.origin}/old`, body: {}, timeoutMs: 2000 }));
    assert.equal(err.status, 301);
    assert.equal(server.requests.length, 1);
  });

  it("times out a receiver that never answers", async () => {
    server.handle(() => ({ hang: true }));
    const started = Date.now();
    const err = await rejection(postJson({ url: `${server.origin}/slow/SECRET`, body: {}, timeoutMs: 150 }));
    assert.equal(err.kind, "Timeout");
    assert.equal(err.retryable, true);
    assert.ok(Date.now() - started < 2000);
    assert.ok(!err.message.includes("SECRET"));
  });

  it("stops when the caller aborts", async () => {
    server.handle(() => ({ hang: true }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const err = await rejection(postJson({ url: `${server.origin}/slow`, body: {}, timeoutMs: 5000, signal: ac.signal }));
    assert.equal(err.kind, "Aborted");
  });

  it("reports a refused connection as a retryable network error without the path", async () => {
    const port = await closedPort();
    const err = await rejection(postJson({ url: `http://127.0.0.1:${port}/hook/SECRET`, body: {}, timeoutMs: 2000 }));
    assert.equal(err.kind, "Network");
    assert.equal(err.retryable, true);
    assert.match(err.message, /ECONNREFUSED/);
    assert.ok(!err.message.includes("SECRET"));
  });

  it("rejects addresses that are not http(s) URLs as configuration errors", async () => {
    assert.equal((await rejection(postJson({ url: "file:///etc/passwd", body: {}, timeoutMs: 100 }))).kind, "Config");
    assert.equal((await rejection(postJson({ url: "hooks.slack.com/x", body: {}, timeoutMs: 100 }))).kind, "Config");
    assert.equal((await rejection(postJson({ url: `${server.origin}/x`, proxy: "socks5://p:1", body: {}, timeoutMs: 100 }))).kind, "Config");
    assert.equal(server.requests.length, 0);
  });

  it("goes through the given proxy (and only that one)", async () => {
    const proxy = await startLocalServer(() => ({ status: 200, text: "via proxy" }));
    try {
      const target = "http://alerts.example.invalid:8080/hook/SECRET";
      const res = await postJson({ url: target, proxy: proxy.origin, body: { via: "proxy" }, timeoutMs: 2000 });
      assert.equal(res.body, "via proxy");
      assert.equal(proxy.requests.length, 1);
      // A forward proxy receives the absolute URL of the target.
      assert.equal(proxy.requests[0]!.target, target);
      assert.equal(proxy.requests[0]!.headers.host, "alerts.example.invalid:8080");
      assert.deepEqual(proxy.requests[0]!.json(), { via: "proxy" });
      assert.equal(server.requests.length, 0);
    } finally {
      await proxy.close();
    }
  });

  it("tunnels https targets through the proxy with CONNECT", async () => {
    const connects: string[] = [];
    const proxy = http.createServer();
    proxy.on("connect", (req: http.IncomingMessage, socket: Duplex) => {
      connects.push(req.url ?? "");
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const port = (proxy.address() as AddressInfo).port;
      const err = await rejection(
        postJson({ url: "https://hooks.example.invalid/services/SECRET", proxy: `http://127.0.0.1:${port}`, body: {}, timeoutMs: 2000 }),
      );
      assert.deepEqual(connects, ["hooks.example.invalid:443"]);
      assert.equal(err.kind, "Network");
      assert.ok(!err.message.includes("SECRET"), err.message);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it("times out through a proxy too, naming the proxy without its credentials", async () => {
    const proxy = await startLocalServer(() => ({ hang: true }));
    try {
      const withCreds = proxy.origin.replace("http://", "http://user:pw@");
      const err = await rejection(postJson({ url: "http://alerts.example.invalid/h", proxy: withCreds, body: {}, timeoutMs: 150 }));
      assert.equal(err.kind, "Timeout");
      assert.match(err.message, /via proxy http:\/\/127\.0\.0\.1:\d+\/…/);
      assert.ok(!err.message.includes("pw"));
    } finally {
      await proxy.close();
    }
  });
});
