/** Who this client is to the API server (authentication.k8s.io/v1 SelfSubjectReview). */
import type { CallOptions, KubeClient, KubeObject } from "./types.ts";

interface SelfSubjectReview extends KubeObject {
  status?: { userInfo?: { username?: string; groups?: string[] } };
}

export interface Identity {
  username: string;
  groups: string[];
}

export async function whoAmI(client: KubeClient, opts: CallOptions = {}): Promise<Identity> {
  const review = await client.create<SelfSubjectReview>(
    { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview", metadata: { name: "" } },
    opts,
  );
  const user = review.status?.userInfo;
  if (!user?.username) throw new Error("the API server's SelfSubjectReview named no user");
  return { username: user.username, groups: user.groups ?? [] };
}
