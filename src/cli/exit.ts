/**
 * Exit codes and the errors that carry them. Scripts and CI pipelines branch on these, so
 * they are part of the CLI's contract (documented in `aviary --help`):
 *   0  the command did what it was asked; for `status`, the canary has not failed
 *   1  the canary run Failed (status), or a request does not apply in the current phase
 *   2  usage error: unknown command or flag, missing or extra argument
 *   3  the canary does not exist, or the cluster could not be reached or refused the call
 *   4  `status -w --timeout` ran out before the run settled
 *   5  `convert`: something could not be carried over faithfully (see its report)
 *   130 interrupted (Ctrl-C)
 */
import type { CanaryPhase } from "../api/types.ts";
import { KubeApiError } from "../kube/types.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNAVAILABLE = 3;
export const EXIT_TIMEOUT = 4;
export const EXIT_LOSSY = 5;
export const EXIT_INTERRUPTED = 130;

/** An error the CLI reports as one line on stderr, ending the process with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** Bad command line: the message says what is wrong; help is one `--help` away. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = "UsageError";
  }
}

/** `status`: a Failed run is the one outcome a pipeline must stop on. */
export function exitCodeForPhase(phase: CanaryPhase | undefined): number {
  return phase === "Failed" ? EXIT_FAILED : EXIT_OK;
}

/** The line to print and the exit code for any error a command throws. */
export function describeFailure(err: unknown): { message: string; exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  if (err instanceof KubeApiError) return { message: explainApiError(err), exitCode: EXIT_UNAVAILABLE };
  const message = err instanceof Error ? err.message : String(err);
  return { message, exitCode: EXIT_UNAVAILABLE };
}

function explainApiError(err: KubeApiError): string {
  if (err.reason === "NoKindMatch") {
    return "the Canary kind (canaries.aviary.dev, v1beta1) is not served by this cluster: install aviary's CRDs (kubectl apply --server-side -f manifests/crds/), or, where aviary serves Flagger's group (canaries.flagger.app), pass --api-group flagger.app";
  }
  if (err.status === 401) return `the API server did not accept the kubeconfig's credentials: ${err.message}`;
  if (err.status === 403) return `not allowed (RBAC decides who may do this): ${err.message}`;
  if (err.status === 0) return `the API server could not be reached: ${err.message}`;
  return err.message;
}
