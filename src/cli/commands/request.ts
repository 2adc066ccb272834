/**
 * The shared body of promote, abort, retry, pause and resume: read the Canary, decide (see
 * ../requests.ts), and write the annotation with the Canary's resourceVersion as a
 * precondition, so the decision is never made on a state the controller has since changed;
 * on a conflict, read again and decide again.
 */
import type { Canary } from "../../api/types.ts";
import { isConflict } from "../../kube/types.ts";
import { canaryRef, getCanary } from "../canaries.ts";
import type { Invocation } from "../command.ts";
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE } from "../exit.ts";
import { decideRequest } from "../requests.ts";
import type { RequestKind } from "../requests.ts";

const MAX_ATTEMPTS = 5;

export interface RequestOptions {
  /** A question to put to a person before writing; the request goes ahead only on "y"/"yes". */
  confirm?: (canary: Canary) => string;
}

export async function runRequest(inv: Invocation, request: RequestKind, opts: RequestOptions = {}): Promise<number> {
  const { io } = inv;
  const session = await inv.connect();
  try {
    const name = inv.positionals[0]!;
    let confirmed = false;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const canary = await getCanary(session, name, io.signal);
      const decision = decideRequest(request, canary, io.now());
      if (decision.kind === "refuse") {
        io.stderr.write(`error: ${decision.reason}\n`);
        return EXIT_FAILED;
      }
      if (decision.kind === "unchanged") {
        io.stdout.write(decision.done + "\n");
        return EXIT_OK;
      }
      if (opts.confirm && !confirmed) {
        const answer = await io.ask(opts.confirm(canary));
        if (!/^\s*y(es)?\s*$/i.test(answer ?? "")) {
          io.stderr.write(`${request} cancelled: nothing was changed\n`);
          return EXIT_FAILED;
        }
        confirmed = true;
      }
      try {
        await session.client.mergePatch(canaryRef(session.namespace, name), decision.patch, {
          signal: io.signal,
          ...(canary.metadata.resourceVersion !== undefined ? { resourceVersion: canary.metadata.resourceVersion } : {}),
        });
      } catch (err) {
        // The controller wrote in between (a status update, a cleared request): decide again on what is there now.
        if (isConflict(err)) continue;
        throw err;
      }
      io.stdout.write(decision.done + "\n");
      for (const note of decision.notes) io.stdout.write(`note: ${note}\n`);
      return EXIT_OK;
    }
    throw new CliError(`the Canary ${session.namespace}/${name} kept changing while the ${request} request was written; try again`, EXIT_UNAVAILABLE);
  } finally {
    await session.close();
  }
}
