/**
 * The shared body of promote, abort, retry, pause and resume: write the request (see
 * ../request-write.ts) and tell the user what happens next.
 */
import type { Canary } from "../../api/types.ts";
import { notFound } from "../canaries.ts";
import type { Invocation } from "../command.ts";
import { CliError, EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE } from "../exit.ts";
import { writeRequest } from "../request-write.ts";
import type { RequestKind } from "../requests.ts";

export interface RequestOptions {
  /** A question to put to a person before writing; the request goes ahead only on "y"/"yes". */
  confirm?: (canary: Canary) => string;
}

export async function runRequest(inv: Invocation, request: RequestKind, opts: RequestOptions = {}): Promise<number> {
  const { io } = inv;
  const session = await inv.connect();
  try {
    const name = inv.positionals[0]!;
    const question = opts.confirm;
    const outcome = await writeRequest(session.client, session.namespace, name, request, {
      api: session.api,
      signal: io.signal,
      now: io.now,
      ...(question ? { confirm: async (canary: Canary) => /^\s*y(es)?\s*$/i.test((await io.ask(question(canary))) ?? "") } : {}),
    });
    switch (outcome.kind) {
      case "written":
        io.stdout.write(outcome.done + "\n");
        for (const note of outcome.notes) io.stdout.write(`note: ${note}\n`);
        return EXIT_OK;
      case "unchanged":
        io.stdout.write(outcome.done + "\n");
        return EXIT_OK;
      case "refused":
        io.stderr.write(`error: ${outcome.reason}\n`);
        return EXIT_FAILED;
      case "cancelled":
        io.stderr.write(`${request} cancelled: nothing was changed\n`);
        return EXIT_FAILED;
      case "not-found":
        throw notFound(session.namespace, name);
      case "contended":
        throw new CliError(`the Canary ${session.namespace}/${name} kept changing while the ${request} request was written; try again`, EXIT_UNAVAILABLE);
    }
  } finally {
    await session.close();
  }
}
