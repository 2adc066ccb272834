import assert from "node:assert/strict";
import { applyBody, createClientOn, METADATA_LIST_ACCEPT, METADATA_WATCH_ACCEPT, resourcePath } from "../../../src/kube/client.ts";
import { kubeConfigFor } from "../../../src/kube/config.ts";
import type { ApiResource } from "../../../src/kube/discovery.ts";
import { isGone, isNoKindMatch } from "../../../src/kube/errors.ts";
import { createTransport } from "../../../src/kube/transport.ts";
import { KubeApiError } from "../../../src/kube/types.ts";
import { json, serveDiscovery, startLocalServer, statusBody } from "./local-server.ts";
import type { LocalServer } from "./local-server.ts";

const deployments: ApiResource = {
  apiVersion: "apps/v1", group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true, subresources: ["status", "scale"], verbs: [],
};
const namespaces: ApiResource = {
  apiVersion: "v1", group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false, subresources: [], verbs: [],
};
const web = { apiVersion: "apps/v1", kind: "Deployment", namespace: "ns", name: "web" };

describe("kube client", () => {
  describe("resourcePath", () => {
    it("builds collection, object and subresource paths for groups and the core API", () => {
      assert.equal(resourcePath(deployments, "ns"), "/apis/apps/v1/namespaces/ns/deployments");
      assert.equal(resourcePath(deployments, undefined), "/apis/apps/v1/deployments");
      assert.equal(resourcePath(deployments, "ns", "web", "scale"), "/apis/apps/v1/namespaces/ns/deployments/web/scale");
      assert.equal(resourcePath(namespaces, "ignored", "kube-system"), "/api/v1/namespaces/kube-system");
    });
    it("escapes names", () => {
      assert.equal(resourcePath(namespaces, undefined, "a/b"), "/api/v1/namespaces/a%2Fb");
    });
  });

  it("applyBody drops managedFields and leaves the rest", () => {
    const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", managedFields: [{}], labels: { a: "b" } }, data: { k: "v" } };
    assert.deepEqual(applyBody(obj), { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", labels: { a: "b" } }, data: { k: "v" } });
    const clean = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } };
    assert.equal(applyBody(clean), clean);
  });

  describe("against a local server", () => {
    let server: LocalServer;
    beforeEach(async () => {
      server = await startLocalServer();
      serveDiscovery(server);
    });
    afterEach(async () => server.close());

    const calls = (method: string, path: string) => server.requests.filter((r) => r.method === method && r.path === path);

    it("get returns the object as JSON (strings stay strings) and null on 404", async () => {
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/web", (_req, res) =>
        json(res, 200, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", creationTimestamp: "2024-01-01T00:00:00Z" }, extra: 1 }),
      );
      const client = server.client();
      const got = await client.get(web);
      assert.equal(got?.metadata.creationTimestamp, "2024-01-01T00:00:00Z");
      assert.equal(got?.extra, 1, "unknown fields are kept");
      assert.equal(await client.get({ ...web, name: "gone" }), null);
    });

    it("caches discovery and refreshes it on a miss", async () => {
      const client = server.client();
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/web", (_req, res) => json(res, 200, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } }));
      await client.get(web);
      await client.get(web);
      assert.equal(calls("GET", "/apis/apps/v1").length, 1, "a known kind costs no discovery request");
      // A kind the cached list does not have triggers one refresh, then a NoKindMatch error.
      await assert.rejects(client.get({ ...web, kind: "Rollout" }), (err: unknown) => {
        assert.ok(isNoKindMatch(err));
        assert.match(String(err), /no matches for kind "Rollout" in version "apps\/v1"/);
        return true;
      });
      assert.equal(calls("GET", "/apis/apps/v1").length, 2);
    });

    it("finds a kind added to the server after the first discovery", async () => {
      const client = server.client();
      const kinds = [{ name: "canaries", namespaced: true, kind: "Canary", verbs: [] }];
      server.routes.set("GET /apis/aviary.dev/v1beta1", (_req, res) => json(res, 200, { kind: "APIResourceList", resources: kinds }));
      server.routes.set("GET /apis/aviary.dev/v1beta1/namespaces/ns/alertproviders/slack", (_req, res) =>
        json(res, 200, { apiVersion: "aviary.dev/v1beta1", kind: "AlertProvider", metadata: { name: "slack" } }),
      );
      const ref = { apiVersion: "aviary.dev/v1beta1", kind: "AlertProvider", namespace: "ns", name: "slack" };
      await assert.rejects(client.get(ref), (err: unknown) => isNoKindMatch(err));
      kinds.push({ name: "alertproviders", namespaced: true, kind: "AlertProvider", verbs: [] });
      assert.equal((await client.get(ref))?.metadata.name, "slack");
    });

    it("shares one discovery request between concurrent callers", async () => {
      const client = server.client();
      server.routes.set("GET /api/v1/namespaces/ns/configmaps/a", (_req, res) => json(res, 200, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }));
      await Promise.all([1, 2, 3, 4].map(() => client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "a" })));
      assert.equal(calls("GET", "/api/v1").length, 1);
    });

    it("treats a group version the server does not serve as NoKindMatch", async () => {
      const client = server.client();
      await assert.rejects(client.get({ apiVersion: "appmesh.k8s.aws/v1beta2", kind: "VirtualRouter", namespace: "ns", name: "r" }), (err: unknown) => isNoKindMatch(err));
    });

    it("says whether a CRD is installed from the group's discovery documents", async () => {
      const client = server.client();
      server.routes.set("GET /apis/appmesh.k8s.aws", (_req, res) =>
        json(res, 200, { kind: "APIGroup", name: "appmesh.k8s.aws", versions: [{ groupVersion: "appmesh.k8s.aws/v1beta2", version: "v1beta2" }] }),
      );
      server.routes.set("GET /apis/appmesh.k8s.aws/v1beta2", (_req, res) =>
        json(res, 200, { kind: "APIResourceList", resources: [{ name: "virtualrouters", namespaced: true, kind: "VirtualRouter" }] }),
      );
      assert.equal(await client.crdInstalled("appmesh.k8s.aws", "virtualrouters"), true);
      assert.equal(await client.crdInstalled("appmesh.k8s.aws", "virtualgateways"), false);
      assert.equal(await client.crdInstalled("split.smi-spec.io", "trafficsplits"), false);
    });

    it("applies server-side as aviary, with force when asked, without managedFields", async () => {
      server.routes.set("PATCH /apis/apps/v1/namespaces/ns/deployments/web", (req, res) => json(res, 200, req.body));
      const client = server.client();
      const obj = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "ns", managedFields: [{ manager: "x" }] }, spec: { replicas: 1 } };
      await client.apply(obj);
      await client.apply(obj, { force: true });
      const [plain, forced] = calls("PATCH", "/apis/apps/v1/namespaces/ns/deployments/web");
      assert.equal(plain!.headers["content-type"], "application/apply-patch+yaml");
      assert.equal(plain!.query.get("fieldManager"), "aviary");
      assert.equal(plain!.query.get("force"), null);
      assert.equal(forced!.query.get("force"), "true");
      assert.deepEqual(plain!.body, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "ns" }, spec: { replicas: 1 } });
    });

    it("merge-patches subresources and adds the resourceVersion precondition", async () => {
      server.routes.set("PATCH /apis/apps/v1/namespaces/ns/deployments/web/scale", (req, res) => json(res, 200, { kind: "Scale", ...(req.body as object) }));
      server.routes.set("PATCH /apis/apps/v1/namespaces/ns/deployments/web/status", (req, res) => json(res, 200, req.body));
      const client = server.client();
      await client.mergePatch(web, { spec: { replicas: 0 } }, { subresource: "scale" });
      await client.mergePatch(web, { status: { x: 1 }, metadata: { labels: { a: "b" } } }, { subresource: "status", resourceVersion: "42" });
      const [scale] = calls("PATCH", "/apis/apps/v1/namespaces/ns/deployments/web/scale");
      assert.equal(scale!.headers["content-type"], "application/merge-patch+json");
      assert.deepEqual(scale!.body, { spec: { replicas: 0 } });
      const [status] = calls("PATCH", "/apis/apps/v1/namespaces/ns/deployments/web/status");
      assert.deepEqual(status!.body, { status: { x: 1 }, metadata: { labels: { a: "b" }, resourceVersion: "42" } });
    });

    it("refuses a subresource the kind does not have, and a namespaced kind without a namespace", async () => {
      const client = server.client();
      await assert.rejects(client.mergePatch({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "c" }, {}, { subresource: "status" }), /ConfigMap v1 has no status subresource/);
      await assert.rejects(client.get({ apiVersion: "v1", kind: "ConfigMap", name: "c" }), (err: unknown) => err instanceof KubeApiError && err.status === 400 && /namespaced but no namespace/.test(err.message));
      assert.equal(server.requests.filter((r) => r.path.includes("configmaps")).length, 0, "nothing was sent");
    });

    it("lists every page and stamps apiVersion and kind on the items", async () => {
      server.routes.set("GET /api/v1/namespaces/ns/configmaps", (req, res) => {
        const page = req.query.get("continue") ?? "first";
        const next: Record<string, string | undefined> = { first: "second", second: undefined };
        json(res, 200, { kind: "ConfigMapList", metadata: { resourceVersion: "77", ...(next[page] ? { continue: next[page] } : {}) }, items: [{ metadata: { name: page } }] });
      });
      const client = server.client({ pageSize: 1 });
      const { items, resourceVersion } = await client.listWithVersion("v1", "ConfigMap", "ns", { labelSelector: "app=web" });
      assert.deepEqual(items, [
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "first" } },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "second" } },
      ]);
      assert.equal(resourceVersion, "77");
      const sent = calls("GET", "/api/v1/namespaces/ns/configmaps");
      assert.deepEqual(sent.map((r) => [r.query.get("labelSelector"), r.query.get("limit"), r.query.get("continue")]), [["app=web", "1", null], ["app=web", "1", "second"]]);
    });

    it("asks for PartialObjectMetadata when a list or watch wants metadata only, and for whole objects otherwise", async () => {
      server.routes.set("GET /api/v1/namespaces/ns/configmaps", (req, res) => {
        if (req.query.get("watch") === "true") {
          res.statusCode = 200;
          res.end(JSON.stringify({ type: "ADDED", object: { apiVersion: "meta.k8s.io/v1", kind: "PartialObjectMetadata", metadata: { name: "w", resourceVersion: "8" } } }) + "\n");
          return;
        }
        json(res, 200, { kind: "PartialObjectMetadataList", metadata: { resourceVersion: "7" }, items: [{ apiVersion: "meta.k8s.io/v1", kind: "PartialObjectMetadata", metadata: { name: "a" } }] });
      });
      const client = server.client();
      const { items } = await client.listWithVersion("v1", "ConfigMap", "ns", { metadataOnly: true });
      assert.deepEqual(items, [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }], "items carry the kind that was listed");
      const watched: string[] = [];
      for await (const e of client.watch("v1", "ConfigMap", "ns", { metadataOnly: true })) watched.push(`${e.object.kind}/${e.object.metadata.name}`);
      assert.deepEqual(watched, ["ConfigMap/w"]);
      await client.list("v1", "ConfigMap", "ns");
      const accepts = calls("GET", "/api/v1/namespaces/ns/configmaps").map((r) => r.headers.accept);
      assert.deepEqual(accepts, [METADATA_LIST_ACCEPT, METADATA_WATCH_ACCEPT, "application/json"]);
    });

    it("holds requests beyond the burst for the rate limit, in order, and never a watch", async () => {
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/web", (_req, res) => json(res, 200, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } }));
      server.routes.set("GET /api/v1/namespaces/ns/configmaps", (req, res) => {
        if (req.query.get("watch") === "true") {
          res.statusCode = 200;
          res.end(JSON.stringify({ type: "ADDED", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "w", resourceVersion: "8" } } }) + "\n");
          return;
        }
        json(res, 200, { metadata: { resourceVersion: "7" }, items: [] });
      });
      const waits: [string, number][] = [];
      // The bucket's clock is the test's: it moves only when the test says, and a wait's timer fires at once.
      let clock = 0;
      const rateLimit = { qps: 10, burst: 2, now: () => clock, setTimer: (fn: () => void) => { setImmediate(fn); return () => undefined; } };
      const client = server.client({ rateLimit, onRateLimitWait: (ms, action) => waits.push([action.split(" ")[0]!, ms]) });
      await client.discovery.resource("apps/v1", "Deployment");
      await client.discovery.resource("v1", "ConfigMap");
      clock += 1000; // discovery's requests spent tokens: let the bucket fill again
      waits.length = 0;
      await Promise.all(Array.from({ length: 4 }, () => client.get(web)));
      assert.deepEqual(waits.map(([, ms]) => ms), [0, 0, 100, 200], "two at once, then each waits its turn of 1/qps");
      waits.length = 0;
      for await (const e of client.watch("v1", "ConfigMap", "ns")) assert.equal(e.object.metadata.name, "w");
      assert.deepEqual(waits, [], "a watch is not rate limited");
    });

    it("lists across all namespaces when no namespace is given", async () => {
      server.routes.set("GET /api/v1/configmaps", (_req, res) => json(res, 200, { metadata: { resourceVersion: "1" }, items: [] }));
      assert.deepEqual(await server.client().list("v1", "ConfigMap", undefined), []);
    });

    it("creates with the field manager, and deletes with a propagation policy, false when already gone", async () => {
      server.routes.set("POST /api/v1/namespaces/ns/configmaps", (req, res) => json(res, 201, req.body));
      server.routes.set("DELETE /api/v1/namespaces/ns/configmaps/c", (_req, res) => json(res, 200, { kind: "Status", status: "Success" }));
      const client = server.client();
      const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "ns" } };
      assert.deepEqual(await client.create(cm), cm);
      assert.equal(calls("POST", "/api/v1/namespaces/ns/configmaps")[0]!.query.get("fieldManager"), "aviary");
      assert.equal(await client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "c" }, { propagationPolicy: "Foreground" }), true);
      assert.deepEqual(calls("DELETE", "/api/v1/namespaces/ns/configmaps/c")[0]!.body, { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Foreground" });
      assert.equal(await client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: "ns", name: "gone" }), false);
    });

    it("replaces with PUT, on a subresource when asked", async () => {
      server.routes.set("PUT /apis/apps/v1/namespaces/ns/deployments/web/status", (req, res) => json(res, 200, req.body));
      const obj = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "ns", resourceVersion: "5" }, status: { replicas: 2 } };
      assert.deepEqual(await server.client().replace(obj, { subresource: "status" }), obj);
    });

    it("maps failures to KubeApiError with the status, the server's reason and the object", async () => {
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/web", (_req, res) => json(res, 409, statusBody(409, "Conflict", "the object has been modified")));
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/busy", (_req, res) => json(res, 429, statusBody(429, "TooManyRequests", "slow down")));
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/proxy", (_req, res) => {
        res.statusCode = 502;
        res.end("<html>bad gateway</html>");
      });
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/forbidden", (_req, res) => json(res, 403, statusBody(403, "Forbidden", 'deployments.apps "forbidden" is forbidden')));
      const client = server.client();
      await assert.rejects(client.get(web), (err: unknown) => {
        assert.ok(err instanceof KubeApiError);
        assert.equal(err.status, 409);
        assert.equal(err.reason, "Conflict");
        assert.equal(err.retryable, true);
        assert.equal(err.message, "get Deployment apps/v1 ns/web: the object has been modified (HTTP 409 Conflict)");
        return true;
      });
      await assert.rejects(client.get({ ...web, name: "busy" }), (err: unknown) => err instanceof KubeApiError && err.retryable && err.reason === "TooManyRequests");
      await assert.rejects(client.get({ ...web, name: "proxy" }), (err: unknown) => err instanceof KubeApiError && err.status === 502 && err.retryable && /bad gateway/.test(err.message));
      await assert.rejects(client.get({ ...web, name: "forbidden" }), (err: unknown) => err instanceof KubeApiError && !err.retryable && err.reason === "Forbidden");
    });

    it("rejects a 2xx answer whose body is not JSON", async () => {
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/web", (_req, res) => {
        res.statusCode = 200;
        res.end("not json");
      });
      await assert.rejects(server.client().get(web), (err: unknown) => err instanceof KubeApiError && err.reason === "InvalidResponse");
    });

    it("times out a call that gets no answer", async () => {
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/web", () => {
        /* never answers */
      });
      const client = server.client({ timeoutMs: 100 });
      const started = Date.now();
      await assert.rejects(client.get(web), (err: unknown) => {
        assert.ok(err instanceof KubeApiError);
        assert.equal(err.status, 0);
        assert.equal(err.reason, "Timeout");
        assert.equal(err.retryable, true);
        assert.match(err.message, /^get Deployment apps\/v1 ns\/web: no answer within the timeout/);
        return true;
      });
      assert.ok(Date.now() - started < 2000);
    });

    it("stops a call when the caller's signal aborts", async () => {
      server.routes.set("GET /apis/apps/v1/namespaces/ns/deployments/web", () => {
        /* never answers */
      });
      const client = server.client();
      await client.discovery.resource("apps/v1", "Deployment");
      const controller = new AbortController();
      const pending = client.get(web, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending, (err: unknown) => err instanceof KubeApiError && err.reason === "Aborted");
      await assert.rejects(client.get(web, { signal: AbortSignal.abort() }), (err: unknown) => err instanceof KubeApiError && err.reason === "Aborted");
    });

    it("reports a server that cannot be reached as a retryable connection error", async () => {
      const url = server.url;
      await server.close();
      const client = createClientOn(createTransport(kubeConfigFor(url), { timeoutMs: 2000 }));
      await assert.rejects(client.get(web), (err: unknown) => {
        assert.ok(err instanceof KubeApiError);
        assert.equal(err.reason, "ConnectionError");
        assert.equal(err.retryable, true);
        assert.match(err.message, /ECONNREFUSED/);
        return true;
      });
      await client.close();
      server = await startLocalServer();
    });

    it("refuses calls after close", async () => {
      const client = server.client();
      await client.close();
      await assert.rejects(client.get(web), /client is closed/);
    });

    describe("watch", () => {
      it("yields events from a stream whose lines arrive split across chunks", async () => {
        server.routes.set("GET /api/v1/namespaces/ns/configmaps", async (req, res) => {
          assert.equal(req.query.get("watch"), "true");
          assert.equal(req.query.get("resourceVersion"), "10");
          assert.equal(req.query.get("allowWatchBookmarks"), "true");
          res.statusCode = 200;
          res.setHeader("content-type", "application/json");
          const a = JSON.stringify({ type: "ADDED", object: { metadata: { name: "a", resourceVersion: "11" } } });
          const b = JSON.stringify({ type: "BOOKMARK", object: { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion: "12" } } });
          const c = JSON.stringify({ type: "DELETED", object: { metadata: { name: "a", resourceVersion: "13" } } });
          res.write(a.slice(0, 10));
          await new Promise((r) => setTimeout(r, 10));
          res.write(a.slice(10) + "\n" + b + "\n" + c.slice(0, 5));
          await new Promise((r) => setTimeout(r, 10));
          res.end(c.slice(5) + "\n");
        });
        const events = [];
        for await (const e of server.client().watch("v1", "ConfigMap", "ns", { resourceVersion: "10" })) events.push(e);
        assert.deepEqual(events.map((e) => [e.type, e.object.metadata.resourceVersion]), [["ADDED", "11"], ["BOOKMARK", "12"], ["DELETED", "13"]]);
        assert.equal(events[0]!.object.kind, "ConfigMap", "watched objects carry their kind");
      });

      it("throws a 410 Gone from an ERROR event", async () => {
        server.routes.set("GET /api/v1/namespaces/ns/configmaps", (_req, res) => {
          res.statusCode = 200;
          res.end(JSON.stringify({ type: "ERROR", object: statusBody(410, "Expired", "too old resource version: 1 (200)") }) + "\n");
        });
        const consume = async () => {
          for await (const _ of server.client().watch("v1", "ConfigMap", "ns", { resourceVersion: "1" })) {
            /* nothing arrives */
          }
        };
        await assert.rejects(consume(), (err: unknown) => {
          assert.ok(isGone(err));
          assert.match(String(err), /too old resource version/);
          return true;
        });
      });

      it("throws the API error when the watch cannot be opened", async () => {
        server.routes.set("GET /api/v1/namespaces/ns/configmaps", (_req, res) => json(res, 403, statusBody(403, "Forbidden", "cannot watch configmaps")));
        const consume = async () => {
          for await (const _ of server.client().watch("v1", "ConfigMap", "ns")) {
            /* nothing arrives */
          }
        };
        await assert.rejects(consume(), (err: unknown) => err instanceof KubeApiError && err.status === 403 && /^watch ConfigMap v1 in ns: cannot watch/.test(err.message));
      });

      it("abandons a stream that goes silent", async () => {
        server.routes.set("GET /api/v1/namespaces/ns/configmaps", (_req, res) => {
          res.statusCode = 200;
          res.write(JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } }) + "\n");
          // …and then nothing, as over a dead connection.
        });
        const seen: string[] = [];
        const consume = async () => {
          for await (const e of server.client().watch("v1", "ConfigMap", "ns", { idleTimeoutMs: 150 })) seen.push(e.object.metadata.name);
        };
        await assert.rejects(consume(), (err: unknown) => err instanceof KubeApiError && err.reason === "Timeout");
        assert.deepEqual(seen, ["a"]);
      });

      it("closes the connection when the consumer stops early", async () => {
        let closed = false;
        server.routes.set("GET /api/v1/namespaces/ns/configmaps", (_req, res) => {
          res.statusCode = 200;
          res.on("close", () => (closed = true));
          res.write(JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } }) + "\n");
        });
        for await (const _ of server.client().watch("v1", "ConfigMap", "ns")) break;
        for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
        assert.equal(closed, true);
      });
    });
  });
});
