import assert from "node:assert/strict";
import type { AlertSeverity, CanaryAlert } from "../../../src/api/types.ts";
import { createLogger } from "../../../src/observability/logger.ts";
import { alertAdmits, createAlertDispatcher } from "../../../src/notifier/dispatcher.ts";
import type { AlertDispatcherDeps } from "../../../src/notifier/dispatcher.ts";
import { CHECK_FAILED, NOW, alertProvider, canaryWith, secret } from "./fixtures.ts";
import { FakeKube } from "../../support/fake-kube.ts";
import { startLocalServer } from "../../support/local-server.ts";
import type { LocalServer } from "../../support/local-server.ts";

const alert = (name: string, provider: string, severity?: AlertSeverity, namespace?: string): CanaryAlert => {
  const a: CanaryAlert = { name, providerRef: namespace ? { name: provider, namespace } : { name: provider } };
  if (severity) a.severity = severity;
  return a;
};

describe("notifier/dispatcher", () => {
  let server: LocalServer;
  let kube: FakeKube;
  let logs: string[];
  let counted: Array<[string, boolean]>;

  const dispatcher = (overrides: Partial<AlertDispatcherDeps> = {}) =>
    createAlertDispatcher({
      kube,
      logger: createLogger({ level: "debug", write: (line) => logs.push(line) }),
      metrics: { sent: (provider, ok) => counted.push([provider, ok]) },
      timeoutMs: 2000,
      now: () => NOW,
      ...overrides,
    });
  const bodies = () => server.requests.map((r) => r.json() as Record<string, unknown>);
  const parsedLogs = () => logs.map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeEach(async () => {
    server = await startLocalServer();
    kube = new FakeKube();
    logs = [];
    counted = [];
  });
  afterEach(async () => {
    await server.close();
  });

  it("admits events at or above an alert's severity (info < warn < error; default info)", () => {
    const table: Array<[AlertSeverity | undefined, AlertSeverity, boolean]> = [
      [undefined, "info", true],
      ["info", "info", true],
      ["info", "error", true],
      ["warn", "info", false],
      ["warn", "warn", true],
      ["warn", "error", true],
      ["error", "warn", false],
      ["error", "error", true],
    ];
    for (const [filter, event, want] of table) assert.equal(alertAdmits(filter, event), want, `${filter} <- ${event}`);
  });

  it("sends only to the alerts whose severity admits the event", async () => {
    kube.put(alertProvider("hooks", { type: "webhook", address: `${server.origin}/hook` }));
    const canary = canaryWith([alert("all", "hooks"), alert("warnings", "hooks", "warn"), alert("errors", "hooks", "error")]);
    const d = dispatcher();

    assert.deepEqual(await d.dispatch(canary, { reason: "Promoted", message: "promoted", severity: "info" }), []);
    assert.deepEqual(bodies().map((b) => (b.metadata as Record<string, string>).alert), ["all"]);

    server.requests.length = 0;
    assert.deepEqual(await d.dispatch(canary, CHECK_FAILED), []);
    assert.deepEqual(bodies().map((b) => (b.metadata as Record<string, string>).alert).sort(), ["all", "warnings"]);

    server.requests.length = 0;
    assert.deepEqual(await d.dispatch(canary, { reason: "RolledBack", message: "rolled back", severity: "error" }), []);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(counted, Array.from({ length: 6 }, () => ["webhook", true]));
  });

  it("does nothing for a Canary without alerts", async () => {
    assert.deepEqual(await dispatcher().dispatch(canaryWith([]), CHECK_FAILED), []);
    const canary = canaryWith();
    delete canary.spec.analysis;
    assert.deepEqual(await dispatcher().dispatch(canary, CHECK_FAILED), []);
    assert.equal(kube.gets.length, 0);
  });

  it("reads the AlertProvider from the Canary's namespace by default, or the one named", async () => {
    kube.put(alertProvider("local", { type: "webhook", address: `${server.origin}/local` }));
    kube.put(alertProvider("shared", { type: "webhook", address: `${server.origin}/shared` }, "platform"));
    const problems = await dispatcher().dispatch(canaryWith([alert("a", "local"), alert("b", "shared", undefined, "platform")]), CHECK_FAILED);
    assert.deepEqual(problems, []);
    assert.deepEqual(server.requests.map((r) => r.target).sort(), ["/local", "/shared"]);
    const providers = bodies().map((b) => (b.metadata as Record<string, string>).provider).sort();
    assert.deepEqual(providers, ["platform/shared", "test/local"]);
  });

  it("takes the address, proxy and token from the Secret, over the spec", async () => {
    const proxy = await startLocalServer(() => ({ status: 200 }));
    try {
      kube.put(alertProvider("hooks", { type: "webhook", address: "http://placeholder.invalid/x", secretRef: { name: "hook-secret" } }));
      kube.put(secret("hook-secret", { address: "http://alerts.example.invalid/hook/SECRETPATH\n", proxy: proxy.origin, token: "tok-abcdef" }));
      assert.deepEqual(await dispatcher().dispatch(canaryWith([alert("a", "hooks")]), CHECK_FAILED), []);
      assert.equal(proxy.requests.length, 1);
      assert.equal(proxy.requests[0]!.target, "http://alerts.example.invalid/hook/SECRETPATH");
      assert.equal(proxy.requests[0]!.headers.authorization, "Bearer tok-abcdef");
      assert.ok(kube.gets.some((g) => g.kind === "Secret" && g.namespace === "test" && g.name === "hook-secret"));
    } finally {
      await proxy.close();
    }
  });

  it("sends the rendered payload of the provider's type with its channel and username", async () => {
    kube.put(alertProvider("slack", { type: "slack", channel: "#deploys", username: "aviary", secretRef: { name: "slack-url" } }));
    kube.put(secret("slack-url", { address: `${server.origin}/services/T0/B0/XYZ` }));
    assert.deepEqual(await dispatcher().dispatch(canaryWith([alert("chat", "slack")]), CHECK_FAILED), []);
    const body = bodies()[0]!;
    assert.equal(body.text, "test/podinfo: check failed for revision 7c9f6d (1/2)");
    assert.equal(body.channel, "#deploys");
    assert.equal(body.username, "aviary");
    assert.deepEqual(counted, [["slack", true]]);
  });

  it("reports a missing AlertProvider, and still delivers the other alerts", async () => {
    kube.put(alertProvider("hooks", { type: "webhook", address: `${server.origin}/hook` }));
    const problems = await dispatcher().dispatch(canaryWith([alert("gone", "nope"), alert("ok", "hooks")]), CHECK_FAILED);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(problems, [
      { alert: "gone", provider: "test/nope", kind: "Config", retryable: false, message: "alert gone via test/nope: AlertProvider test/nope not found" },
    ]);
    assert.deepEqual(counted.sort(), [["unknown", false], ["webhook", true]]);
    const warn = parsedLogs().find((l) => l.msg === "alert not sent")!;
    assert.equal(warn.level, "warn");
    assert.equal(warn.namespace, "test");
    assert.equal(warn.name, "podinfo");
    assert.equal(warn.alert, "gone");
  });

  it("reports a missing Secret without sending to the spec's address", async () => {
    kube.put(alertProvider("hooks", { type: "discord", address: `${server.origin}/fallback`, secretRef: { name: "missing" } }));
    const problems = await dispatcher().dispatch(canaryWith([alert("a", "hooks")]), CHECK_FAILED);
    assert.equal(server.requests.length, 0);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.kind, "Config");
    assert.equal(problems[0]!.message, "alert a via test/hooks: Secret test/missing of AlertProvider test/hooks not found");
    assert.deepEqual(counted, [["discord", false]]);
  });

  it("reports a provider with no address anywhere, and an unknown type", async () => {
    kube.put(alertProvider("empty", { type: "msteams", secretRef: { name: "s" } }));
    kube.put(secret("s", { token: "x" }));
    kube.put({ ...alertProvider("odd", { type: "webhook", address: `${server.origin}/x` }), spec: { type: "gchat", address: `${server.origin}/x` } } as never);
    const problems = await dispatcher().dispatch(canaryWith([alert("a", "empty"), alert("b", "odd")]), CHECK_FAILED);
    assert.equal(server.requests.length, 0);
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'alert a via test/empty: AlertProvider test/empty has no address: set spec.address or the key "address" of Secret test/s',
        'alert b via test/odd: unknown alert provider type "gchat"; expected one of discord, msteams, slack, webhook',
      ],
    );
    assert.deepEqual(counted.sort(), [["msteams", false], ["unknown", false]]);
  });

  it("reports an HTTP error, counted and logged without the address or token", async () => {
    server.handle(() => ({ status: 500, text: "boom for /services/SECRETPATH" }));
    kube.put(alertProvider("hooks", { type: "webhook", secretRef: { name: "s" } }));
    kube.put(secret("s", { address: `${server.origin}/services/SECRETPATH`, token: "tok-SECRETTOKEN" }));
    const problems = await dispatcher().dispatch(canaryWith([alert("a", "hooks")]), CHECK_FAILED);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.kind, "Http");
    assert.equal(problems[0]!.retryable, true);
    assert.equal(problems[0]!.message, `alert a via test/hooks: POST ${server.origin}/…: HTTP 500: boom for ***`);
    assert.deepEqual(counted, [["webhook", false]]);
    assert.ok(logs.length > 0);
    for (const line of logs) {
      assert.ok(!line.includes("SECRETPATH") && !line.includes("SECRETTOKEN"), line);
    }
  });

  it("logs a successful send at debug with the redacted address only", async () => {
    kube.put(alertProvider("hooks", { type: "webhook", address: `${server.origin}/hook/SECRETPATH` }));
    await dispatcher().dispatch(canaryWith([alert("a", "hooks")]), CHECK_FAILED);
    const sent = parsedLogs().find((l) => l.msg === "alert sent")!;
    assert.equal(sent.level, "debug");
    assert.equal(sent.address, `${server.origin}/…`);
    assert.equal(sent.namespace, "test");
    assert.ok(!logs.join("\n").includes("SECRETPATH"));
  });

  it("resolves within its timeout when the receiver hangs", async () => {
    server.handle(() => ({ hang: true }));
    kube.put(alertProvider("hooks", { type: "webhook", address: `${server.origin}/hook` }));
    const started = Date.now();
    const problems = await dispatcher({ timeoutMs: 200 }).dispatch(canaryWith([alert("a", "hooks")]), CHECK_FAILED);
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started}ms`);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.kind, "Timeout");
    assert.deepEqual(counted, [["webhook", false]]);
  });

  it("resolves within its timeout even when the Kubernetes client ignores its signal", async () => {
    kube.hang = true;
    const started = Date.now();
    const problems = await dispatcher({ timeoutMs: 150 }).dispatch(canaryWith([alert("a", "hooks"), alert("b", "hooks")]), CHECK_FAILED);
    assert.ok(Date.now() - started < 1500);
    assert.deepEqual(
      problems.map((p) => [p.alert, p.kind, p.message]),
      [
        ["a", "Timeout", "alert a via test/hooks: not delivered within 150ms"],
        ["b", "Timeout", "alert b via test/hooks: not delivered within 150ms"],
      ],
    );
  });

  it("stops when the caller aborts, without rejecting", async () => {
    server.handle(() => ({ hang: true }));
    kube.put(alertProvider("hooks", { type: "webhook", address: `${server.origin}/hook` }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const problems = await dispatcher({ timeoutMs: 5000 }).dispatch(canaryWith([alert("a", "hooks")]), CHECK_FAILED, ac.signal);
    assert.equal(problems[0]!.kind, "Aborted");
  });

  it("reports Kubernetes API failures as values", async () => {
    const { KubeApiError } = await import("../../../src/kube/types.ts");
    const failing = new FakeKube();
    failing.failNext.set("get", [new KubeApiError("get AlertProvider: forbidden", 403, "Forbidden")]);
    const problems = await dispatcher({ kube: failing }).dispatch(canaryWith([alert("a", "hooks")]), CHECK_FAILED);
    assert.deepEqual(problems.map((p) => [p.kind, p.retryable]), [["KubeApi", false]]);
  });

  it("never throws: a broken metrics hook or a malformed Canary still resolves", async () => {
    kube.put(alertProvider("hooks", { type: "webhook", address: `${server.origin}/hook` }));
    const d = dispatcher({ metrics: { sent: () => { throw new Error("hook broke"); } } });
    assert.deepEqual(await d.dispatch(canaryWith([alert("a", "hooks")]), CHECK_FAILED), []);
    assert.equal(server.requests.length, 1);
    const malformed = { ...canaryWith(), spec: { analysis: { alerts: [alert("a", "hooks")] } }, status: { lastAnalysis: "nonsense" } } as never;
    const problems = await d.dispatch(malformed, CHECK_FAILED);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.kind, "Internal");
    const noRef = canaryWith([{ name: "broken" } as never]);
    const refless = await d.dispatch(noRef, CHECK_FAILED);
    assert.deepEqual(refless.map((p) => [p.alert, p.kind]), [["broken", "Internal"]]);
  });
});
