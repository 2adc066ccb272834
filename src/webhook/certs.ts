/**
 * The webhook's certificates: a private CA and a serving certificate it signs.
 *
 * RSA keys come from node's crypto (native, off the event loop); node-forge builds and
 * signs the X.509 certificates, which node's crypto cannot do. Checks use node's native
 * X509Certificate so they agree with what the TLS stack will accept.
 */
import { generateKeyPair, randomBytes, X509Certificate, createPrivateKey } from "node:crypto";
import { promisify } from "node:util";
import { isIP } from "node:net";
import forge from "node-forge";

const generateKeyPairAsync = promisify(generateKeyPair);

/** PEM-encoded material, as stored in a `kubernetes.io/tls` Secret (plus the CA's key). */
export interface CertBundle {
  /** The CA certificate: what goes into the webhook configurations' caBundle. */
  caCert: string;
  /** The CA key; absent when the material is issued elsewhere (then aviary cannot renew it). */
  caKey?: string;
  /** The serving certificate. */
  cert: string;
  /** The serving certificate's key. */
  key: string;
}

export interface KeyPairPem {
  cert: string;
  key: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Tolerates clocks behind ours (API server, other nodes) when a fresh cert is first used. */
const BACKDATE_MS = 60 * 60 * 1000;

export const DEFAULT_CA_VALIDITY_DAYS = 3650;
export const DEFAULT_SERVING_VALIDITY_DAYS = 365;

/** The names the API server uses to reach `<service>.<namespace>` in-cluster. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

async function newRsaKey(bits: number): Promise<forge.pki.rsa.PrivateKey> {
  const { privateKey } = await generateKeyPairAsync("rsa", {
    modulusLength: bits,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  return forge.pki.privateKeyFromPem(privateKey);
}

function publicKeyOf(key: forge.pki.rsa.PrivateKey): forge.pki.rsa.PublicKey {
  return forge.pki.setRsaPublicKey(key.n, key.e);
}

/** A positive 128-bit serial (DER integers are signed; Go's x509 rejects negative ones). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

export interface CaOptions {
  commonName?: string;
  validityDays?: number;
  now?: Date;
  keyBits?: number;
}

export async function generateCa(opts: CaOptions = {}): Promise<KeyPairPem> {
  const key = await newRsaKey(opts.keyBits ?? 2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKeyOf(key);
  cert.serialNumber = randomSerial();
  validity(cert, opts.now ?? new Date(), opts.validityDays ?? DEFAULT_CA_VALIDITY_DAYS);
  const subject = [
    { name: "commonName", value: opts.commonName ?? "aviary-webhook-ca" },
    { name: "organizationName", value: "aviary" },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(key) };
}

export interface ServingOptions {
  ca: KeyPairPem;
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  validityDays?: number;
  now?: Date;
  keyBits?: number;
}

export async function generateServingCert(opts: ServingOptions): Promise<KeyPairPem> {
  if (opts.dnsNames.length === 0 && (opts.ipAddresses ?? []).length === 0) {
    throw new Error("a serving certificate needs at least one DNS name or IP address");
  }
  for (const ip of opts.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`not an IP address: ${ip}`);
  }
  const caCert = forge.pki.certificateFromPem(opts.ca.cert);
  const caKey = forge.pki.privateKeyFromPem(opts.ca.key);
  const key = await newRsaKey(opts.keyBits ?? 2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKeyOf(key);
  cert.serialNumber = randomSerial();
  validity(cert, opts.now ?? new Date(), opts.validityDays ?? DEFAULT_SERVING_VALIDITY_DAYS);
  // Go's TLS client ignores the CN and checks only the SANs; the CN is for humans.
  cert.setSubject([{ name: "commonName", value: opts.dnsNames[0] ?? opts.ipAddresses?.[0] ?? "aviary-webhook" }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...opts.dnsNames.map((value) => ({ type: 2, value })),
    ...(opts.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(key) };
}

export interface BundleOptions {
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  caValidityDays?: number;
  servingValidityDays?: number;
  now?: Date;
  keyBits?: number;
}

/** A new CA and a serving certificate signed by it. */
export async function generateCertBundle(opts: BundleOptions): Promise<CertBundle> {
  const ca = await generateCa({ validityDays: opts.caValidityDays, now: opts.now, keyBits: opts.keyBits });
  const serving = await generateServingCert({
    ca,
    dnsNames: opts.dnsNames,
    ipAddresses: opts.ipAddresses,
    validityDays: opts.servingValidityDays,
    now: opts.now,
    keyBits: opts.keyBits,
  });
  return { caCert: ca.cert, caKey: ca.key, cert: serving.cert, key: serving.key };
}

// ---------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------

/** Parses the first certificate of a PEM; throws on garbage. */
export function parseCertificate(pem: string): X509Certificate {
  return new X509Certificate(pem);
}

export function notAfter(certPem: string): Date {
  return new Date(parseCertificate(certPem).validTo);
}

/** True when the certificate expires within `withinMs` of `now` (or already has). */
export function needsRenewal(certPem: string, now: Date, withinMs: number): boolean {
  return notAfter(certPem).getTime() - now.getTime() <= withinMs;
}

/** True when the certificate's SANs name every DNS name and IP address given. */
export function coversNames(certPem: string, dnsNames: readonly string[], ipAddresses: readonly string[] = []): boolean {
  const x509 = parseCertificate(certPem);
  // checkHost honours wildcards; subject: "never" restricts the match to SANs, as Go does.
  return (
    dnsNames.every((name) => x509.checkHost(name, { subject: "never", wildcards: false }) !== undefined) &&
    ipAddresses.every((ip) => x509.checkIP(ip) !== undefined)
  );
}

/**
 * Why a bundle cannot be served as is, or null when it can: the serving key must match
 * the certificate, the CA must have signed it, and the CA key (when present) must match
 * the CA. Catches a half-written pair of files before it replaces a working context.
 */
export function bundleProblem(bundle: CertBundle): string | null {
  try {
    const cert = parseCertificate(bundle.cert);
    const ca = parseCertificate(bundle.caCert);
    if (!cert.checkPrivateKey(createPrivateKey(bundle.key))) return "the serving key does not match the serving certificate";
    if (!cert.verify(ca.publicKey)) return "the serving certificate is not signed by the CA";
    if (bundle.caKey !== undefined && !ca.checkPrivateKey(createPrivateKey(bundle.caKey))) {
      return "the CA key does not match the CA certificate";
    }
    return null;
  } catch (err) {
    return `unreadable certificate material: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export const sameBundle = (a: CertBundle | null, b: CertBundle | null): boolean =>
  a !== null && b !== null && a.caCert === b.caCert && a.cert === b.cert && a.key === b.key && a.caKey === b.caKey;
