/**
 * Proves the API server calls admission webhooks registered by URL on 127.0.0.1 and applies
 * their JSON Patch: the mechanism aviary's local runner relies on.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import forge from "node-forge";
import { applyManifest, eventually, kubectl, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";

interface Pem { cert: string; key: string }

/** A CA and a serving certificate for 127.0.0.1, made with node-forge (keys from node:crypto for speed). */
function makeCertificates(): { ca: Pem; serving: Pem } {
  const keyPair = () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    return {
      privateKey: forge.pki.privateKeyFromPem(privateKey.export({ type: "pkcs1", format: "pem" }).toString()),
      publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: "spki", format: "pem" }).toString()),
    };
  };
  const issue = (subject: string, keys: ReturnType<typeof keyPair>, signer: forge.pki.rsa.PrivateKey, issuer: forge.pki.CertificateField[], extensions: object[]) => {
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = "01" + randomBytes(8).toString("hex");
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
    cert.setSubject([{ name: "commonName", value: subject }]);
    cert.setIssuer(issuer);
    cert.setExtensions(extensions);
    cert.sign(signer, forge.md.sha256.create());
    return cert;
  };
  const caKeys = keyPair();
  const caSubject = [{ name: "commonName", value: "aviary-test-ca" }];
  const ca = issue("aviary-test-ca", caKeys, caKeys.privateKey, caSubject, [
    { name: "basicConstraints", cA: true }, { name: "keyUsage", keyCertSign: true, cRLSign: true },
  ]);
  const servingKeys = keyPair();
  const serving = issue("127.0.0.1", servingKeys, caKeys.privateKey, caSubject, [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
  ]);
  return {
    ca: { cert: forge.pki.certificateToPem(ca), key: forge.pki.privateKeyToPem(caKeys.privateKey) },
    serving: { cert: forge.pki.certificateToPem(serving), key: forge.pki.privateKeyToPem(servingKeys.privateKey) },
  };
}

describe("local control plane: admission webhooks by URL", () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let server: Server;
  const reviews: { operation: string; kind: string; name: string }[] = [];
  const configName = `aviary-harness-${randomBytes(3).toString("hex")}`;

  before(async () => {
    ns = await tempNamespace();
    const { ca, serving } = makeCertificates();
    server = createServer({ cert: serving.cert, key: serving.key, minVersion: "TLSv1.2" }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const review = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        const request = review.request;
        reviews.push({ operation: request.operation, kind: request.kind.kind, name: request.name });
        const patch = [{ op: "add", path: "/metadata/annotations/harness.aviary.dev~1seen", value: request.uid }];
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({
          apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview",
          response: { uid: request.uid, allowed: true, patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") },
        }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const config = {
      apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name: configName },
      webhooks: [{
        name: "harness.aviary.dev",
        clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle: Buffer.from(ca.cert).toString("base64") },
        rules: [{ apiGroups: ["apps"], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["deployments"] }],
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns.name } },
        admissionReviewVersions: ["v1"], sideEffects: "None", failurePolicy: "Fail", timeoutSeconds: 5,
      }],
    };
    const applied = await applyManifest(ns.name, config);
    assert.equal(applied.code, 0, applied.stderr);
  });

  after(async () => {
    await kubectl(["delete", "mutatingwebhookconfiguration", configName, "--ignore-not-found"]);
    server?.close();
    await ns?.remove();
  });

  it("sends the AdmissionReview of a Deployment update and applies the returned JSON Patch", async () => {
    await kubectlOk(["create", "deployment", "web", "--image=nginx:1.27", "-n", ns.name]);
    assert.equal(reviews.length, 0, "CREATE is not in the webhook's rules");
    // The configuration takes a moment to reach the API server's webhook cache: retry the update.
    const annotation = await eventually("the webhook's patch on the Deployment", async () => {
      await kubectlOk(["set", "image", "deployment/web", `nginx=nginx:1.${reviews.length + 28}`, "-n", ns.name]);
      const d = await kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(["get", "deployment", "web", "-n", ns.name]);
      return d.metadata.annotations?.["harness.aviary.dev/seen"];
    }, 30_000, 500);
    assert.match(annotation, /^[0-9a-f-]{36}$/, "the annotation holds the request uid the webhook saw");
    assert.deepEqual(reviews.at(-1), { operation: "UPDATE", kind: "Deployment", name: "web" });
  });
});
