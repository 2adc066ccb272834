/**
 * Collects the CRDs of the meshes and gateways aviary's routers write, from the Go modules of
 * those projects (downloaded by hack/cluster into the module cache), and prints them as one
 * multi-document YAML stream ready for `kubectl apply --server-side`.
 *
 * Usage: node hack/third-party-crds.ts <gateway-api dir> <eks-charts dir> <istio api dir> <smi-sdk-go dir> <keda dir> <contour dir> <traefik dir> <kuma dir> <apisix-ingress-controller dir>
 *
 * App Mesh's CRDs come from the controller's Helm chart inside the eks-charts module (the
 * controller's own module does not ship them); KEDA's ScaledObject (autoscalerRef) from
 * KEDA's module; Contour's HTTPProxy from the CRD bundle of Contour's module; Traefik's TraefikService
 * from the CRD reference in Traefik's module; Kuma's TrafficRoute from the Helm chart in Kuma's
 * module; APISIX's ApisixRoute from the sample CRDs of the APISIX ingress controller's module.
 * Gloo Edge's Upstream and RouteTable come from hack/crds/gloo.yaml, written for aviary: Gloo's
 * modules are not served by the Go module proxy.
 *
 * SMI publishes its TrafficSplit CRD only as apiextensions.k8s.io/v1beta1, which API servers
 * stopped serving in 1.22; it is converted here to v1 field by field (the schema is the same
 * for every version, and v1alpha2/v1alpha3 are served too because Flagger-style routers and
 * Linkerd write those versions).
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";

type Doc = Record<string, unknown> & { kind?: string; apiVersion?: string; metadata?: { name?: string } };

function readCrds(file: string, keep: (name: string) => boolean = () => true): Doc[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d != null && d.kind === "CustomResourceDefinition" && keep(d.metadata?.name ?? ""));
}

interface V1beta1Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: Record<string, unknown>;
    versions: { name: string; storage: boolean }[];
    additionalPrinterColumns?: { name: string; type: string; description?: string; JSONPath: string }[];
    validation?: { openAPIV3Schema: Record<string, unknown> };
  };
}

function toV1(crd: V1beta1Crd): Doc {
  const schema = { type: "object", ...(crd.spec.validation?.openAPIV3Schema ?? {}) };
  const columns = (crd.spec.additionalPrinterColumns ?? []).map(({ JSONPath, ...rest }) => ({ ...rest, jsonPath: JSONPath }));
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: crd.metadata.name },
    spec: {
      group: crd.spec.group,
      scope: crd.spec.scope,
      names: crd.spec.names,
      versions: crd.spec.versions.map((v) => ({
        name: v.name,
        served: v.name !== "v1alpha1",
        storage: v.storage,
        schema: { openAPIV3Schema: schema },
        additionalPrinterColumns: columns,
      })),
    },
  };
}

const [gatewayApi, eksCharts, istioApi, smiSdk, keda, contour, traefik, kuma, apisix] = process.argv.slice(2);
if (!gatewayApi || !eksCharts || !istioApi || !smiSdk || !keda || !contour || !traefik || !kuma || !apisix) {
  console.error("usage: third-party-crds.ts <gateway-api> <eks-charts> <istio-api> <smi-sdk-go> <keda> <contour> <traefik> <kuma> <apisix-ingress-controller>");
  process.exit(2);
}

const standard = join(gatewayApi, "config/crd/standard");
const crds: Doc[] = [
  ...readdirSync(standard).filter((f) => f.endsWith(".yaml")).sort().flatMap((f) => readCrds(join(standard, f))),
  ...readCrds(join(eksCharts, "stable/appmesh-controller/crds/crds.yaml")),
  ...readCrds(join(istioApi, "kubernetes/customresourcedefinitions.gen.yaml"), (n) => n.endsWith(".networking.istio.io")),
  ...readCrds(join(smiSdk, "crds/split.yaml")).map((d) => toV1(d as unknown as V1beta1Crd)),
  ...readCrds(join(keda, "config/crd/bases/keda.sh_scaledobjects.yaml")),
  ...readCrds(join(contour, "examples/contour/01-crds.yaml"), (n) => n === "httpproxies.projectcontour.io"),
  ...readCrds(join(traefik, "docs/content/reference/dynamic-configuration/traefik.io_traefikservices.yaml")),
  ...readCrds(join(kuma, "deployments/charts/kuma/crds/kuma.io_trafficroutes.yaml")),
  ...readCrds(join(apisix, "samples/deploy/crd/v1/ApisixRoute.yaml")),
  ...readCrds(join(dirname(fileURLToPath(import.meta.url)), "crds/gloo.yaml")),
];
process.stdout.write(crds.map((d) => stringify(d, { lineWidth: 0 })).join("---\n"));
