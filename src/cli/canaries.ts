/** Reading Canaries for the commands, with the errors a user can act on. */
import { DEFAULT_API } from "../api/groups.ts";
import type { ApiGroup } from "../api/groups.ts";
import type { Canary } from "../api/types.ts";
import type { ObjectRef } from "../kube/types.ts";
import type { Session } from "./command.ts";
import { CliError, EXIT_UNAVAILABLE, UsageError } from "./exit.ts";

export const canaryRef = (namespace: string, name: string, api: ApiGroup = DEFAULT_API): ObjectRef => ({ ...api.canary, namespace, name });

export function notFound(namespace: string, name: string): CliError {
  return new CliError(`canary "${name}" not found in namespace "${namespace}" (aviary get -n ${namespace} lists them)`, EXIT_UNAVAILABLE);
}

export async function getCanary(session: Session, name: string, signal: AbortSignal): Promise<Canary> {
  const canary = await session.client.get<Canary>(canaryRef(session.namespace, name, session.api), { signal });
  if (canary === null) throw notFound(session.namespace, name);
  return canary;
}

export async function listCanaries(session: Session, namespace: string | undefined, signal: AbortSignal): Promise<Canary[]> {
  return session.client.list<Canary>(session.api.canary.apiVersion, session.api.canary.kind, namespace, { signal });
}

/**
 * The Canary a command is about: the one named, or, when no name is given, the only one in
 * the namespace (one application per namespace is common; guessing among several is not).
 */
export async function resolveCanaryName(session: Session, given: string | undefined, signal: AbortSignal): Promise<string> {
  if (given !== undefined) return given;
  const names = (await listCanaries(session, session.namespace, signal)).map((c) => c.metadata.name).sort();
  if (names.length === 1) return names[0]!;
  if (names.length === 0) throw new CliError(`no canaries in namespace "${session.namespace}"`, EXIT_UNAVAILABLE);
  throw new UsageError(`namespace "${session.namespace}" has ${names.length} canaries (${names.join(", ")}): name one`);
}
