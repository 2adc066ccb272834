/**
 * Flagger's manifests against the real API server and controller: each supported fixture in
 * test/fixtures/flagger/ is applied as written (strict field validation: a field the CRD
 * lacked would fail the apply), aviary runs with the fixture's --mesh-provider, and the
 * Canary must reach Initialized with its route objects, the provider in its status, and
 * every field its provider ignores named in the Unsupported condition.
 */
import assert from "node:assert/strict";
import { startAviary, type AviaryProcess } from "../../support/aviary.ts";
import { fixtureCanary, flaggerFixtures, type FlaggerFixture } from "../../support/flagger-fixtures.ts";
import { eventually, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { apply, deployment, waitForPhase } from "../../support/canary-fixtures.ts";

const RESOURCES: Record<string, string> = {
  VirtualService: "virtualservices.networking.istio.io",
  DestinationRule: "destinationrules.networking.istio.io",
  TrafficSplit: "trafficsplits.split.smi-spec.io",
  VirtualRouter: "virtualrouters.appmesh.k8s.aws",
  VirtualNode: "virtualnodes.appmesh.k8s.aws",
  Ingress: "ingresses.networking.k8s.io",
  HTTPRoute: "httproutes.gateway.networking.k8s.io",
  HTTPProxy: "httpproxies.projectcontour.io",
  TraefikService: "traefikservices.traefik.io",
  RouteTable: "routetables.gateway.solo.io",
  Upstream: "upstreams.gloo.solo.io",
  TrafficRoute: "trafficroutes.kuma.io",
  ApisixRoute: "apisixroutes.apisix.apache.org",
  Service: "services",
};

interface FixtureStatus {
  status?: { phase?: string; provider?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

interface CrdSchema { spec: { versions: { schema: { openAPIV3Schema: { properties: { status: { properties: Record<string, unknown> } } } } }[] } }

/**
 * Installs this tree's CRDs when the cluster holds others (a cluster shared with other
 * checkouts may have had an older schema applied meanwhile, which would prune the new fields).
 */
async function ensureCrds(): Promise<void> {
  const crd = await kubectlJson<CrdSchema>(["get", "crd", "canaries.aviary.dev"]).catch(() => undefined);
  if (crd?.spec.versions[0]?.schema.openAPIV3Schema.properties.status.properties.provider !== undefined) return;
  await kubectlOk(["apply", "--server-side", "--force-conflicts", "-k", "manifests/crds"]);
  await kubectlOk(["wait", "--for=condition=Established", "crd/canaries.aviary.dev", "crd/metrictemplates.aviary.dev", "--timeout=30s"]);
}

/** The user's own Ingress an nginx or skipper Canary names in ingressRef. */
function userIngress(name: string, port: number): Record<string, unknown> {
  return {
    apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name },
    spec: { ingressClassName: "nginx", rules: [{ host: `${name}.example.test`, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name, port: { number: port } } } }] } }] },
  };
}

interface StoredIngress {
  metadata: { annotations?: Record<string, string> };
  spec: { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] };
}

/** The user's own ApisixRoute an apisix Canary names in routeRef, sending a host to the apex Service. */
function userApisixRoute(name: string, service: string, port: number): Record<string, unknown> {
  return {
    apiVersion: "apisix.apache.org/v2", kind: "ApisixRoute", metadata: { name },
    spec: { http: [{ name: "main", match: { hosts: [`${service}.example.test`], paths: ["/*"] }, backends: [{ serviceName: service, servicePort: port }] }] },
  };
}

/** The Gloo Upstream a gloo Canary names in upstreamRef, created in its namespace (which may be another one, as in Flagger's tutorial). */
async function userUpstream(ref: { name: string; namespace?: string }, ns: string): Promise<void> {
  const namespace = ref.namespace ?? ns;
  await kubectl(["create", "namespace", namespace]); // may exist already
  await kubectlOk(["apply", "-n", namespace, "-f", "-"], JSON.stringify({
    apiVersion: "gloo.solo.io/v1", kind: "Upstream", metadata: { name: ref.name }, spec: { kube: { serviceName: "settings", servicePort: 80 }, useHttp2: true },
  }));
}

interface StoredHTTPRoute {
  spec: { rules: { filters?: { type: string; urlRewrite?: unknown }[]; timeouts?: Record<string, string> }[] };
}

/** What a fixture's route object must carry beyond existing. */
const ROUTE_CHECKS: Record<string, (ns: string) => Promise<void>> = {
  "skipper-canary.yaml": async (ns) => {
    const copy = await kubectlJson<StoredIngress>(["get", RESOURCES.Ingress!, "maps-canary", "-n", ns]);
    assert.deepEqual(copy.spec.rules[0]!.http.paths.map((p) => p.backend.service.name), ["maps-primary", "maps-canary"]);
    assert.deepEqual(JSON.parse(copy.metadata.annotations?.["zalando.org/backend-weights"] ?? "null"), { "maps-primary": 100, "maps-canary": 0 });
    assert.equal(copy.metadata.annotations?.["zalando.org/skipper-predicate"], "False()");
  },
  "gloo-canary.yaml": async (ns) => {
    // Both Upstreams aviary writes, on the generated Services, with upstreamRef's settings.
    for (const arm of ["primary", "canary"]) {
      const upstream = await kubectlJson<{ spec: { useHttp2?: boolean; kube: { serviceName: string; servicePort: number } } }>(["get", RESOURCES.Upstream!, `${ns}-tickets-${arm}upstream-8080`, "-n", ns]);
      assert.deepEqual([upstream.spec.kube.serviceName, upstream.spec.kube.servicePort, upstream.spec.useHttp2], [`tickets-${arm}`, 8080, true]);
    }
  },
  "gatewayapi-flagger-fields.yaml": async (ns) => {
    const route = await kubectlJson<StoredHTTPRoute>(["get", RESOURCES.HTTPRoute!, "notifications", "-n", ns]);
    const rule = route.spec.rules[0]!;
    assert.deepEqual(rule.timeouts, { request: "30s", backendRequest: "10s" });
    assert.deepEqual((rule.filters ?? []).map((x) => x.type).sort(), ["RequestHeaderModifier", "RequestMirror", "URLRewrite"]);
    assert.deepEqual(rule.filters!.find((x) => x.type === "URLRewrite")!.urlRewrite, { path: { type: "ReplacePrefixMatch", replacePrefixMatch: "/v2" } });
  },
};

const supported = flaggerFixtures().filter((f) => f.rejected === undefined);
const byMesh = new Map<string, FlaggerFixture[]>();
for (const f of supported) byMesh.set(f.meshProvider, [...(byMesh.get(f.meshProvider) ?? []), f]);

describe("Flagger's manifests on the API server, with --mesh-provider", function () {
  beforeEach(ensureCrds);

  for (const [mesh, fixtures] of byMesh) {
    describe(`--mesh-provider ${mesh}`, () => {
      let ns: Awaited<ReturnType<typeof tempNamespace>>;
      let aviary: AviaryProcess;

      before(async () => {
        ns = await tempNamespace("aviary-flagger");
        aviary = startAviary(["--no-webhook", "--namespace", ns.name, "--mesh-provider", mesh]);
      });
      after(async () => {
        await aviary?.stop();
        // Cluster-scoped route objects do not go with the namespace.
        if (ns !== undefined) await kubectl(["delete", RESOURCES.TrafficRoute!, "-l", `aviary.dev/canary-namespace=${ns.name}`, "--ignore-not-found"]);
        await ns?.remove();
      });

      for (const f of fixtures) {
        it(`${f.file}: applies unchanged and reaches Initialized with ${f.objects!.join(", ")}`, async () => {
          const canary = fixtureCanary(f.file);
          const name = canary.metadata.name;
          const service = canary.spec.service as { port: number };
          await apply(ns.name, deployment(name, "ghcr.io/example/app:1.0.0"));
          if (canary.spec.ingressRef !== undefined) await apply(ns.name, userIngress((canary.spec.ingressRef as { name: string }).name, service.port));
          if (canary.spec.routeRef !== undefined) await apply(ns.name, userApisixRoute((canary.spec.routeRef as { name: string }).name, name, service.port));
          if (canary.spec.upstreamRef !== undefined) await userUpstream(canary.spec.upstreamRef as { name: string; namespace?: string }, ns.name);
          const applied = await kubectl(["apply", "--validate=strict", "-n", ns.name, "-f", "-"], JSON.stringify(canary));
          assert.equal(applied.code, 0, applied.stderr);

          await waitForPhase(ns.name, name, "Initialized", 60_000);
          for (const ref of f.objects!) {
            const [kind, objectName] = ref.split("/");
            const got = await kubectl(["get", RESOURCES[kind!]!, objectName!, "-n", ns.name]);
            assert.equal(got.code, 0, `${ref}: ${got.stderr}`);
          }
          const expectedMessage = f.warnings!.map((w) => w.replace(": ", " ")).join("; ");
          const settled = (st: NonNullable<FixtureStatus["status"]>) =>
            st.provider !== undefined && (f.warnings!.length === 0 || st.conditions?.find((c) => c.type === "Unsupported")?.message === expectedMessage);
          let last: FixtureStatus["status"];
          await eventually(`${name} to report its provider and ignored fields`, async () => {
            await ensureCrds();
            last = (await kubectlJson<FixtureStatus>(["get", "canaries.aviary.dev", name, "-n", ns.name])).status;
            if (last !== undefined && settled(last)) return last;
            // Read while an older schema was installed, the new fields were pruned: any change makes aviary reconcile and write again.
            await kubectl(["annotate", "canaries.aviary.dev", name, "-n", ns.name, "--overwrite", `example.test/poke=${Date.now()}`]);
            return undefined;
          }, 20_000).catch(() => undefined); // the assertions below say what is wrong
          const status = last ?? {};
          assert.equal(status.provider, (canary.spec.provider as string | undefined) ?? mesh);
          const unsupported = status.conditions?.find((c) => c.type === "Unsupported");
          if (f.warnings!.length === 0) {
            assert.equal(unsupported, undefined, unsupported?.message);
          } else {
            assert.equal(unsupported?.status, "True");
            assert.equal(unsupported?.reason, "FieldsIgnored");
            // The condition names the same fields as the admission warnings, as `path rule`.
            assert.equal(unsupported?.message, expectedMessage);
          }
          await ROUTE_CHECKS[f.file]?.(ns.name);
        });
      }
    });
  }

});
