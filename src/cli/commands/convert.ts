import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { convert, InputError } from "../../convert/convert.ts";
import { fileName, toYaml, documentYaml } from "../../convert/emit.ts";
import type { InputFile } from "../../convert/source.ts";
import { formatReport } from "../../convert/report.ts";
import { booleanOption, stringOption } from "../args.ts";
import type { CliIO, Command } from "../command.ts";
import { CliError, EXIT_FAILED, EXIT_LOSSY, EXIT_OK, UsageError } from "../exit.ts";

export const convertCommand: Command = {
  name: "convert",
  summary: "Turn Argo Rollouts manifests into a Deployment, a Canary and MetricTemplates",
  args: "[file...]",
  minArgs: 0,
  maxArgs: Number.POSITIVE_INFINITY,
  description: [
    "Reads Argo Rollouts objects (Rollout, AnalysisTemplate, ClusterAnalysisTemplate) and the",
    "Services, Ingresses, HTTPRoutes, VirtualServices and Deployments they name, from the files",
    "given or from standard input (no file, or -), and writes the aviary objects that behave the",
    "same: the Deployment (the Rollout's template, or its workloadRef with the replicas restored),",
    "MetricTemplates and a Canary with an explicit step schedule. Nothing is sent to a cluster.",
    "",
    "Everything that could not be carried over, or was carried with a difference, is listed on",
    "stderr with the source field it comes from, as are the changes to make by hand (Service",
    "names, routes to delete). Exit status: 0 all carried over; 5 something could not be",
    "carried over faithfully (0 with --allow-lossy); 1 the input could not be read or holds no",
    "Rollout; 2 usage error.",
  ].join("\n"),
  examples: [
    "aviary convert rollout.yaml analysis.yaml services.yaml > aviary.yaml",
    "kubectl get rollout,analysistemplate,svc,ingress -o yaml | aviary convert --output-dir converted/",
    "aviary convert shop/*.yaml --gate-url http://approvals.ops/gate --allow-lossy",
  ],
  options: [
    { name: "output-dir", kind: "string", placeholder: "<dir>", description: "Write one file per object into this directory (default: all on stdout)" },
    { name: "allow-lossy", kind: "boolean", description: "Exit 0 even when something could not be carried over (the report still lists it)" },
    { name: "gate-url", kind: "string", placeholder: "<url>", description: "Turn pauses without a duration into confirm webhooks calling this URL" },
    { name: "service-name", kind: "string", placeholder: "<name>", description: "The Canary's apex Service (default: the Rollout's name)" },
    { name: "aws-region", kind: "string", placeholder: "<region>", description: "Region written into CloudWatch MetricTemplates" },
  ],
  async run(inv) {
    const { io } = inv;
    const gateUrl = stringOption(inv.values, "gate-url");
    if (gateUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(gateUrl)) throw new UsageError(`--gate-url must be an http or https URL, got "${gateUrl}"`);
    const serviceName = stringOption(inv.values, "service-name");
    if (serviceName !== undefined && !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(serviceName)) {
      throw new UsageError(`--service-name must be a lowercase RFC 1035 name (a-z, 0-9, '-'), got "${serviceName}"`);
    }
    const files = await readInputs(inv.positionals, io);
    let conversion;
    try {
      conversion = convert(files, { gateUrl, serviceName, awsRegion: stringOption(inv.values, "aws-region") });
    } catch (err) {
      if (err instanceof InputError) throw new CliError(err.message, EXIT_FAILED);
      throw err;
    }
    const dir = stringOption(inv.values, "output-dir");
    if (dir === undefined) {
      io.stdout.write(toYaml(conversion.outputs));
    } else {
      await mkdir(dir, { recursive: true });
      for (const o of conversion.outputs) await writeFile(join(dir, fileName(o)), documentYaml(o));
      io.stderr.write(`wrote ${conversion.outputs.length} files to ${dir}\n`);
    }
    io.stderr.write(formatReport(conversion.report.entries));
    if (!conversion.report.isLossy) return EXIT_OK;
    if (booleanOption(inv.values, "allow-lossy")) return EXIT_OK;
    io.stderr.write("Some behaviour was not carried over (listed above): exit status 5; --allow-lossy accepts the conversion as it is.\n");
    return EXIT_LOSSY;
  },
};

async function readInputs(paths: readonly string[], io: CliIO): Promise<InputFile[]> {
  const wanted = paths.length === 0 ? ["-"] : paths;
  const files: InputFile[] = [];
  for (const path of wanted) {
    if (path === "-") {
      // A terminal on stdin means nobody is piping manifests in: waiting for them would look like a hang.
      if (io.readStdin === undefined || (io.interactive && paths.length === 0)) throw new UsageError("name the files to convert, or pipe the manifests in");
      files.push({ name: "(stdin)", text: await io.readStdin() });
      continue;
    }
    try {
      files.push({ name: path, text: await readFile(path, "utf8") });
    } catch (err) {
      throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`, EXIT_FAILED);
    }
  }
  return files;
}
