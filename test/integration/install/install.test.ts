/**
 * The install manifests against the real API server: `kubectl apply -k manifests/` is
 * accepted object by object (server-side dry run, so admission and schema validation run),
 * the rendered roles hold no wildcard, and the API server's own authorizer, asked as a
 * service account bound to the rendered roles, allows every call aviary makes and none of
 * the calls it must not make.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { createLogger } from "../../../src/observability/logger.ts";
import { startWebhook } from "../../../src/webhook/run.ts";
import { kubectl, kubectlOk, requireKubeconfig } from "../../support/kubectl.ts";
import { FORBIDDEN, REQUIRED } from "../../unit/install/operations.ts";
import type { Operation } from "../../unit/install/operations.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const MANIFESTS = join(ROOT, "manifests");
const NAMESPACE = "aviary-system";

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}

async function render(dir = MANIFESTS): Promise<Obj[]> {
  const out = await kubectlOk(["kustomize", dir]);
  return parseAllDocuments(out).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
}

/**
 * The API server's authorizer asked directly (a SubjectAccessReview for one operation, as the
 * service account `user`): true when it allows it. Group and resource are named exactly, so the
 * answer does not depend on whether a third-party CRD happens to be installed.
 */
async function canI(user: string, op: Operation, namespaces: Record<Operation["scope"], string | undefined>): Promise<boolean> {
  const [resource, subresource] = op.resource.split("/");
  const ns = namespaces[op.scope];
  const [, saNamespace] = user.split(":");
  const review = {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${saNamespace}`, "system:authenticated"],
      resourceAttributes: {
        verb: op.verb, group: op.group, resource,
        ...(subresource ? { subresource } : {}),
        ...(op.name ? { name: op.name } : {}),
        ...(ns ? { namespace: ns } : {}),
      },
    },
  };
  const out = await kubectlOk(["create", "-f", "-", "-o", "jsonpath={.status.allowed}"], JSON.stringify(review));
  return out.trim() === "true";
}

/** Runs `fn` over `items` with at most `limit` at once (the machine is small and shared). */
async function pooled<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

const describeOp = (op: Operation) => `${op.verb} ${op.group || "core"}/${op.resource}${op.name ? `/${op.name}` : ""} [${op.scope}] (${op.why})`;

describe("install manifests on the API server", function () {
  this.timeout(180_000);
  let rendered: Obj[];

  before(async () => {
    requireKubeconfig();
    rendered = await render();
  });

  it("renders with kustomize into the expected objects, the ClusterRole and Role holding no wildcard", () => {
    const kinds = rendered.map((o) => o.kind).sort();
    for (const kind of ["Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding",
      "Deployment", "Service", "PodDisruptionBudget", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]) {
      assert.ok(kinds.includes(kind), `${kind} rendered`);
    }
    const roles = rendered.filter((o) => o.kind === "ClusterRole" || o.kind === "Role");
    assert.ok(roles.length >= 2);
    for (const role of roles) {
      const rules = role.rules as Rule[];
      assert.ok(rules.length > 0);
      for (const rule of rules) {
        for (const field of ["verbs", "resources", "apiGroups", "resourceNames", "nonResourceURLs"] as const) {
          assert.ok(!(rule[field] ?? []).some((v) => v.includes("*")), `${role.kind}/${role.metadata.name}: wildcard in ${field}: ${JSON.stringify(rule)}`);
        }
      }
    }
  });

  it("is accepted object by object by `kubectl apply -k manifests/ --dry-run=server`, with no Pod Security warning", async () => {
    // A server-side dry run of objects in a namespace that does not exist fails; the namespace
    // is made for real (from the manifest, so its Pod Security labels apply) and removed after
    // only when this test made it.
    const existed = (await kubectl(["get", "namespace", NAMESPACE, "-o", "name"])).code === 0;
    if (!existed) await kubectlOk(["create", "-f", join(MANIFESTS, "namespace.yaml")]);
    try {
      // A local aviary run (another test, a developer) registers webhook configurations of
      // the same names by `url`; applying the Service-based ones over those would merge the
      // two clientConfigs. Those are then checked as fresh objects under another name.
      const registeredByUrl = new Set<string>();
      for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]) {
        const live = await kubectl(["get", kind.toLowerCase(), "aviary", "-o", "json"]);
        if (live.code === 0 && (JSON.parse(live.stdout) as { webhooks?: Array<{ clientConfig?: { url?: string } }> }).webhooks?.some((w) => w.clientConfig?.url)) {
          registeredByUrl.add(kind);
        }
      }
      const runs =
        registeredByUrl.size === 0
          ? [await kubectl(["apply", "-k", MANIFESTS, "--dry-run=server"])]
          : [
              await kubectl(["apply", "-f", "-", "--dry-run=server"], rendered.filter((o) => !registeredByUrl.has(o.kind)).map((o) => stringify(o)).join("---\n")),
              await kubectl(["create", "-f", "-", "--dry-run=server"], rendered
                .filter((o) => registeredByUrl.has(o.kind))
                .map((o) => stringify({ ...o, metadata: { ...o.metadata, name: `aviary-install-${randomBytes(3).toString("hex")}` } }))
                .join("---\n")),
            ];
      const stdout = runs.map((r) => r.stdout).join("");
      const stderr = runs.map((r) => r.stderr).join("");
      for (const r of runs) assert.equal(r.code, 0, `apply failed:\n${r.stderr}\n${r.stdout}`);
      assert.doesNotMatch(stderr, /PodSecurity|would violate/i);
      assert.doesNotMatch(stderr, /^error/im);
      const accepted = stdout.split("\n").filter((l) => / (created|configured|unchanged) \(server dry run\)$/.test(l));
      assert.equal(accepted.length, rendered.length, `every object accepted:\n${stdout}`);
      for (const o of rendered.filter((x) => !registeredByUrl.has(x.kind))) {
        assert.ok(accepted.some((l) => l.split(" ")[0]!.endsWith(`/${o.metadata.name}`) && l.toLowerCase().startsWith(o.kind.toLowerCase())), `${o.kind} ${o.metadata.name}`);
      }
    } finally {
      if (!existed) await kubectl(["delete", "namespace", NAMESPACE, "--wait=true", "--timeout=60s"]);
    }
  });

  it("lets a service account bound to the rendered roles make every call aviary makes, and none it must not", async () => {
    // The rendered RBAC, bound to a throw-away service account so nothing shared is touched:
    // aviary-system becomes a fresh namespace, the ClusterRole and its binding get fresh names.
    const suffix = randomBytes(3).toString("hex");
    const ns = `aviary-rbac-${suffix}`;
    const clusterName = `aviary-rbac-test-${suffix}`;
    const user = `system:serviceaccount:${ns}:aviary`;
    const rbacKinds = new Set(["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);
    const docs = rendered.filter((o) => rbacKinds.has(o.kind)).map((o) => {
      const copy = structuredClone(o) as Obj & { roleRef?: { kind: string; name: string }; subjects?: Array<{ namespace?: string }> };
      if (copy.metadata.namespace === NAMESPACE) copy.metadata.namespace = ns;
      if (copy.kind === "ClusterRole" || copy.kind === "ClusterRoleBinding") copy.metadata.name = clusterName;
      if (copy.roleRef?.kind === "ClusterRole") copy.roleRef.name = clusterName;
      for (const s of copy.subjects ?? []) if (s.namespace === NAMESPACE) s.namespace = ns;
      return copy;
    });
    assert.equal(docs.length, 5);
    await kubectlOk(["create", "namespace", ns]);
    try {
      await kubectlOk(["apply", "-f", "-"], docs.map((d) => stringify(d)).join("---\n"));
      const scopes = { own: ns, any: "default", cluster: undefined };
      const required = await pooled(REQUIRED, 4, async (op) => ({ op, ok: await canI(user, op, scopes) }));
      assert.deepEqual(required.filter((r) => !r.ok).map((r) => describeOp(r.op)), [], "denied calls aviary makes");
      const forbidden = await pooled(FORBIDDEN, 4, async (op) => ({ op, ok: await canI(user, { ...op, name: op.name ?? "some-object" }, scopes) }));
      assert.deepEqual(forbidden.filter((r) => r.ok).map((r) => describeOp(r.op)), [], "allowed calls aviary must not make");
    } finally {
      await kubectl(["delete", "clusterrolebinding,clusterrole", clusterName, "--ignore-not-found"]);
      await kubectl(["delete", "namespace", ns, "--wait=false", "--ignore-not-found"]);
    }
  });

  it("registers in its webhook configurations exactly the routes the running webhook server serves", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aviary-install-"));
    const webhook = await startWebhook(
      {
        host: "127.0.0.1",
        port: 0,
        certificates: { dir },
        dnsNames: ["localhost"],
        webhookConfigurations: { mutating: [], validating: [] },
        aviaryUsers: [`system:serviceaccount:${NAMESPACE}:aviary`],
      },
      { log: createLogger({ level: "error" }) },
    );
    try {
      const configured = rendered
        .filter((o) => o.kind.endsWith("WebhookConfiguration"))
        .flatMap((o) => (o.webhooks as Array<{ clientConfig: { service: { path: string } } }>).map((w) => w.clientConfig.service.path));
      assert.deepEqual([...configured].sort(), [...webhook.server.routes()].sort());
    } finally {
      await webhook.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
