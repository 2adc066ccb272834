/**
 * Makes the certificates a locally run webhook serves (`hack/dev-certs` calls this):
 * a CA and a serving certificate for 127.0.0.1, ::1, localhost and the in-cluster Service
 * names, written as ca.crt, ca.key, tls.crt, tls.key. An existing valid set is kept, so
 * the caBundle already registered with a cluster stays valid; --force issues a new one.
 *
 *   node src/webhook/dev-certs.ts [--out certs] [--service aviary-webhook] [--namespace aviary-system]
 *                                 [--dns NAME]... [--ip ADDRESS]... [--force]
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createLogger } from "../observability/logger.ts";
import { DirectoryCertStore } from "./cert-store.ts";
import { CertManager } from "./cert-manager.ts";
import { notAfter, serviceDnsNames } from "./certs.ts";

export const DEV_IP_ADDRESSES = ["127.0.0.1", "::1"];

export interface DevCertOptions {
  out: string;
  service: string;
  namespace: string;
  dnsNames: string[];
  ipAddresses: string[];
  force: boolean;
}

export function parseDevCertArgs(argv: string[]): DevCertOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: "string", default: "certs" },
      service: { type: "string", default: "aviary-webhook" },
      namespace: { type: "string", default: "aviary-system" },
      dns: { type: "string", multiple: true, default: [] },
      ip: { type: "string", multiple: true, default: [] },
      force: { type: "boolean", default: false },
    },
    strict: true,
  });
  return {
    out: values.out,
    service: values.service,
    namespace: values.namespace,
    dnsNames: ["localhost", ...serviceDnsNames(values.service, values.namespace), ...values.dns],
    ipAddresses: [...DEV_IP_ADDRESSES, ...values.ip],
    force: values.force,
  };
}

async function main(): Promise<void> {
  const opts = parseDevCertArgs(process.argv.slice(2));
  const store = new DirectoryCertStore(opts.out);
  // A --force run starts from an empty store in memory; the files are replaced atomically.
  const source = opts.force ? { description: store.description, load: async () => null, save: store.save.bind(store) } : store;
  const log = createLogger({ level: "warn" });
  const manager = new CertManager({ store: source, dnsNames: opts.dnsNames, ipAddresses: opts.ipAddresses, log });
  let issued = false;
  manager.onChange((change) => {
    issued = change.reason === "issued";
  });
  const bundle = await manager.refresh();
  process.stdout.write(
    `${issued ? "wrote" : "kept"} ${opts.out}/{ca.crt,ca.key,tls.crt,tls.key}: ` +
      `${[...opts.dnsNames, ...opts.ipAddresses].join(", ")}; valid until ${notAfter(bundle.cert).toISOString()}\n`,
  );
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`dev-certs: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
