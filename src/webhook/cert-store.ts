/**
 * Where the webhook's certificates live: a directory (local runs, `certs/`) or a
 * `kubernetes.io/tls` Secret (in-cluster). Both use the Secret's key names, so a mounted
 * Secret and the local directory look the same.
 */

import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { KubeClient, KubeObject } from "../kube/types.ts";
import { isConflict } from "../kube/types.ts";
import type { CertBundle } from "./certs.ts";

export const FILE_CA_CERT = "ca.crt";
export const FILE_CA_KEY = "ca.key";
export const FILE_CERT = "tls.crt";
export const FILE_KEY = "tls.key";

/** The port CertManager reads and writes through. */
export interface CertStore {
  /** Where the material lives, for logs and errors. */
  readonly description: string;
  /** The stored bundle, or null when there is none (or it is incomplete). */
  load(signal?: AbortSignal): Promise<CertBundle | null>;
  /** Stores a bundle; throws CertStoreConflict when someone else wrote in between. */
  save(bundle: CertBundle, signal?: AbortSignal): Promise<void>;
}

/** Another writer (a second aviary replica) stored a bundle since our last load. */
export class CertStoreConflict extends Error {
  readonly kind = "conflict";
  constructor(message: string) {
    super(message);
    this.name = "CertStoreConflict";
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Certificates as files `ca.crt`, `ca.key`, `tls.crt`, `tls.key` in one directory. */
/** The serving certificate matches its key and was issued by the CA. */
function isConsistent(b: CertBundle): boolean {
  try {
    const cert = new X509Certificate(b.cert);
    return cert.checkPrivateKey(createPrivateKey(b.key)) && cert.checkIssued(new X509Certificate(b.caCert));
  } catch {
    return false;
  }
}

export class DirectoryCertStore implements CertStore {
  readonly dir: string;
  readonly description: string;

  constructor(dir: string) {
    this.dir = dir;
    this.description = `directory ${dir}`;
  }

  /**
   * Reads the four files. A writer replaces them one by one, so a read can catch a mix of old
   * and new files; such a set (a certificate that does not match its key or its CA) is read
   * again a few times before it is handed on as it is.
   */
  async load(): Promise<CertBundle | null> {
    let bundle = await this.#read();
    for (let attempt = 0; attempt < 5 && bundle !== null && !isConsistent(bundle); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      bundle = await this.#read();
    }
    return bundle;
  }

  async #read(): Promise<CertBundle | null> {
    const [caCert, caKey, cert, key] = await Promise.all(
      [FILE_CA_CERT, FILE_CA_KEY, FILE_CERT, FILE_KEY].map((f) => readOptional(join(this.dir, f))),
    );
    if (caCert === undefined || cert === undefined || key === undefined) return null;
    return caKey === undefined ? { caCert, cert, key } : { caCert, caKey, cert, key };
  }

  /** Each file is written to a temporary name and renamed, so a reader never sees half a file. */
  async save(bundle: CertBundle): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const files: Array<[string, string | undefined, number]> = [
      [FILE_CA_CERT, bundle.caCert, 0o644],
      [FILE_CA_KEY, bundle.caKey, 0o600],
      [FILE_KEY, bundle.key, 0o600],
      [FILE_CERT, bundle.cert, 0o644],
    ];
    for (const [name, content, mode] of files) {
      if (content === undefined) continue;
      const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
      await writeFile(tmp, content, { mode });
      await rename(tmp, join(this.dir, name));
    }
  }
}

export interface SecretCertStoreOptions {
  namespace: string;
  name: string;
  /** Per API call. */
  timeoutMs?: number;
}

const decode = (data: Record<string, string>, key: string): string | undefined => {
  const v = data[key];
  return v === undefined || v === "" ? undefined : Buffer.from(v, "base64").toString("utf8");
};
const encode = (s: string): string => Buffer.from(s, "utf8").toString("base64");

/**
 * A `kubernetes.io/tls` Secret with `tls.crt`, `tls.key`, `ca.crt` and `ca.key`. Writes
 * are optimistic: create when absent, otherwise replace at the resourceVersion last read,
 * so two replicas racing to issue certificates end with one winner and no mixed pair.
 * The Secret may exist empty (shipped by the manifests so RBAC can name it).
 */
export class SecretCertStore implements CertStore {
  readonly description: string;
  readonly #client: KubeClient;
  readonly #opts: Required<SecretCertStoreOptions>;
  #resourceVersion: string | undefined;
  #existing: KubeObject | null = null;

  constructor(client: KubeClient, opts: SecretCertStoreOptions) {
    this.#client = client;
    this.#opts = { ...opts, timeoutMs: opts.timeoutMs ?? 10_000 };
    this.description = `secret ${opts.namespace}/${opts.name}`;
  }

  #signal(signal?: AbortSignal): AbortSignal {
    const timeout = AbortSignal.timeout(this.#opts.timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  #ref() {
    return { apiVersion: "v1", kind: "Secret", namespace: this.#opts.namespace, name: this.#opts.name };
  }

  async load(signal?: AbortSignal): Promise<CertBundle | null> {
    const secret = await this.#client.get(this.#ref(), { signal: this.#signal(signal) });
    this.#existing = secret;
    this.#resourceVersion = secret?.metadata.resourceVersion;
    if (!secret) return null;
    const data = (secret.data ?? {}) as Record<string, string>;
    const caCert = decode(data, FILE_CA_CERT);
    const caKey = decode(data, FILE_CA_KEY);
    const cert = decode(data, FILE_CERT);
    const key = decode(data, FILE_KEY);
    if (caCert === undefined || cert === undefined || key === undefined) return null;
    return caKey === undefined ? { caCert, cert, key } : { caCert, caKey, cert, key };
  }

  async save(bundle: CertBundle, signal?: AbortSignal): Promise<void> {
    const data: Record<string, string> = {
      [FILE_CA_CERT]: encode(bundle.caCert),
      [FILE_CERT]: encode(bundle.cert),
      [FILE_KEY]: encode(bundle.key),
    };
    if (bundle.caKey !== undefined) data[FILE_CA_KEY] = encode(bundle.caKey);
    const secret: KubeObject = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        ...(this.#existing?.metadata ?? {}),
        name: this.#opts.name,
        namespace: this.#opts.namespace,
        resourceVersion: this.#resourceVersion,
        managedFields: undefined,
      },
      // The type is immutable: keep whatever an existing Secret has (the manifests ship one).
      type: typeof this.#existing?.type === "string" ? this.#existing.type : "kubernetes.io/tls",
      data,
    };
    try {
      const stored =
        this.#resourceVersion === undefined
          ? await this.#client.create(secret, { signal: this.#signal(signal) })
          : await this.#client.replace(secret, { signal: this.#signal(signal) });
      this.#existing = stored;
      this.#resourceVersion = stored.metadata.resourceVersion;
    } catch (err) {
      if (isConflict(err)) throw new CertStoreConflict(`${this.description} was written by someone else`);
      throw err;
    }
  }
}
