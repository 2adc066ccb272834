import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CertBundle } from "../../../src/webhook/certs.ts";
import {
  bundleProblem,
  coversNames,
  generateCa,
  generateCertBundle,
  generateServingCert,
  needsRenewal,
  notAfter,
  serviceDnsNames,
} from "../../../src/webhook/certs.ts";
import { planCertificates } from "../../../src/webhook/cert-manager.ts";
import { DirectoryCertStore } from "../../../src/webhook/cert-store.ts";
import { parseDevCertArgs } from "../../../src/webhook/dev-certs.ts";

const DAY = 24 * 60 * 60 * 1000;
const NAMES = serviceDnsNames("aviary-webhook", "aviary-system");

describe("webhook certificates", function () {
  this.timeout(20_000);
  let bundle: CertBundle;
  before(async () => {
    bundle = await generateCertBundle({ dnsNames: NAMES, ipAddresses: ["127.0.0.1"] });
  });

  it("issues a CA and a serving certificate the CA verifies, for the Service names and 127.0.0.1", () => {
    const ca = new X509Certificate(bundle.caCert);
    const cert = new X509Certificate(bundle.cert);
    assert.equal(ca.ca, true);
    assert.equal(cert.ca, false);
    assert.ok(cert.verify(ca.publicKey));
    assert.ok(cert.checkIssued(ca));
    assert.deepEqual(NAMES, [
      "aviary-webhook",
      "aviary-webhook.aviary-system",
      "aviary-webhook.aviary-system.svc",
      "aviary-webhook.aviary-system.svc.cluster.local",
    ]);
    assert.equal(cert.subjectAltName, NAMES.map((n) => `DNS:${n}`).join(", ") + ", IP Address:127.0.0.1");
    assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1"]); // serverAuth
    assert.ok(/^[0-7]/.test(cert.serialNumber), "serial must be positive");
    assert.equal(bundleProblem(bundle), null);
    assert.ok(coversNames(bundle.cert, NAMES, ["127.0.0.1"]));
    assert.ok(!coversNames(bundle.cert, ["aviary-webhook.other.svc"]));
    assert.ok(!coversNames(bundle.cert, [], ["10.0.0.1"]));
  });

  it("is valid for a year from an hour ago, and the CA for ten years", () => {
    const cert = new X509Certificate(bundle.cert);
    const from = new Date(cert.validFrom).getTime();
    assert.ok(Math.abs(Date.now() - 3600_000 - from) < 60_000);
    assert.ok(Math.abs(notAfter(bundle.cert).getTime() - (Date.now() + 365 * DAY)) < 60_000);
    assert.ok(Math.abs(notAfter(bundle.caCert).getTime() - (Date.now() + 3650 * DAY)) < 60_000);
  });

  it("needsRenewal is true inside the window and after expiry", () => {
    const expiry = notAfter(bundle.cert);
    const at = (msBeforeExpiry: number) => new Date(expiry.getTime() - msBeforeExpiry);
    assert.equal(needsRenewal(bundle.cert, at(31 * DAY), 30 * DAY), false);
    assert.equal(needsRenewal(bundle.cert, at(29 * DAY), 30 * DAY), true);
    assert.equal(needsRenewal(bundle.cert, at(-DAY), 30 * DAY), true);
  });

  it("bundleProblem catches a key from another pair, a foreign CA and garbage", async () => {
    const other = await generateCertBundle({ dnsNames: ["localhost"], keyBits: 1024 });
    assert.match(bundleProblem({ ...bundle, key: other.key }) ?? "", /serving key does not match/);
    assert.match(bundleProblem({ ...bundle, caCert: other.caCert, caKey: other.caKey }) ?? "", /not signed by the CA/);
    assert.match(bundleProblem({ ...bundle, caKey: other.caKey }) ?? "", /CA key does not match/);
    assert.match(bundleProblem({ ...bundle, cert: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n" }) ?? "", /unreadable/);
  });

  it("refuses a serving certificate without names or with a bad IP", async () => {
    const ca = { cert: bundle.caCert, key: bundle.caKey ?? "" };
    await assert.rejects(generateServingCert({ ca, dnsNames: [] }), /at least one DNS name or IP/);
    await assert.rejects(generateServingCert({ ca, dnsNames: ["x"], ipAddresses: ["300.1.1.1"] }), /not an IP address: 300\.1\.1\.1/);
  });

  describe("planCertificates", () => {
    const policy = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], renewBeforeMs: 30 * DAY, servingValidityDays: 365 };
    let fresh: CertBundle;
    before(async () => {
      fresh = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], keyBits: 1024 });
    });
    const later = (days: number) => new Date(Date.now() + days * DAY);

    it("issues everything when nothing is stored and uses a good bundle", () => {
      assert.deepEqual(planCertificates(null, new Date(), policy), { action: "issue-all", reason: "no certificate stored" });
      assert.deepEqual(planCertificates(fresh, new Date(), policy), { action: "use", bundle: fresh });
    });

    it("renews only the serving certificate near its expiry or when names change, keeping the CA", () => {
      assert.deepEqual(planCertificates(fresh, later(340), policy), { action: "issue-serving", reason: "the serving certificate expires soon" });
      assert.equal(planCertificates(fresh, new Date(), { ...policy, dnsNames: ["localhost", "aviary.x.svc"] }).action, "issue-serving");
      assert.equal(planCertificates({ ...fresh, key: bundle.key }, new Date(), policy).action, "issue-serving");
    });

    it("issues a new CA when the CA cannot outlive a new serving certificate, or its key is missing", () => {
      assert.equal(planCertificates(fresh, later(3650 - 300), policy).action, "issue-all");
      const { caKey: _dropped, ...withoutCaKey } = fresh;
      assert.equal(planCertificates(withoutCaKey, new Date(), policy).action, "use");
      assert.equal(planCertificates(withoutCaKey, later(340), policy).action, "issue-all");
    });

    it("issues a new CA when the CA itself expires soon, even if the serving certificate is fine", async () => {
      const now = new Date();
      // A serving certificate may outlive its CA (nothing enforces the nesting); the CA rules.
      const ca = await generateCa({ validityDays: 4, now, keyBits: 1024 });
      const serving = await generateServingCert({ ca, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], validityDays: 10, now, keyBits: 1024 });
      const shortLived = { caCert: ca.cert, caKey: ca.key, cert: serving.cert, key: serving.key };
      assert.deepEqual(planCertificates(shortLived, now, { ...policy, renewBeforeMs: 5 * DAY, servingValidityDays: 10 }), {
        action: "issue-all",
        reason: "the CA expires soon",
      });
    });
  });

  describe("DirectoryCertStore", () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "aviary-store-"));
    });
    afterEach(async () => rm(dir, { recursive: true, force: true }));

    it("round-trips a bundle as ca.crt, ca.key, tls.crt, tls.key with private keys 0600", async () => {
      const store = new DirectoryCertStore(join(dir, "nested"));
      assert.equal(await store.load(), null);
      await store.save(bundle);
      assert.deepEqual(await store.load(), bundle);
      assert.equal((await stat(join(dir, "nested", "tls.key"))).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, "nested", "ca.key"))).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, "nested", "tls.crt"))).mode & 0o777, 0o644);
    });

    it("loads material issued elsewhere without a CA key", async () => {
      await writeFile(join(dir, "ca.crt"), bundle.caCert);
      await writeFile(join(dir, "tls.crt"), bundle.cert);
      assert.equal(await new DirectoryCertStore(dir).load(), null);
      await writeFile(join(dir, "tls.key"), bundle.key);
      assert.deepEqual(await new DirectoryCertStore(dir).load(), { caCert: bundle.caCert, cert: bundle.cert, key: bundle.key });
    });
  });

  it("hack/dev-certs names 127.0.0.1, ::1, localhost and the Service by default", () => {
    assert.deepEqual(parseDevCertArgs([]), {
      out: "certs",
      service: "aviary-webhook",
      namespace: "aviary-system",
      dnsNames: ["localhost", ...NAMES],
      ipAddresses: ["127.0.0.1", "::1"],
      force: false,
    });
    const custom = parseDevCertArgs(["--out", "/tmp/c", "--service", "wh", "--namespace", "ops", "--dns", "a.example", "--ip", "10.0.0.5", "--force"]);
    assert.deepEqual(custom.dnsNames, ["localhost", ...serviceDnsNames("wh", "ops"), "a.example"]);
    assert.deepEqual(custom.ipAddresses, ["127.0.0.1", "::1", "10.0.0.5"]);
    assert.equal(custom.force, true);
    assert.throws(() => parseDevCertArgs(["--bogus"]));
  });
});
