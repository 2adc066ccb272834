/**
 * Leader election on a real coordination.k8s.io/v1 Lease: one leader at a time, a prompt
 * handover when the leader stops, a takeover only after expiry when it dies, and an instant
 * step-down when someone else takes the Lease.
 */
import assert from "node:assert/strict";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { createLeaderElector } from "../../../src/kube/lease.ts";
import type { LeaderElector, LeaseObject } from "../../../src/kube/lease.ts";
import { eventually, kubectlJson, kubectlOk, tempNamespace } from "../../support/kubectl.ts";
import { clusterClient, testLogger } from "./support.ts";

const LEASE_MS = 3000;
const RENEW_MS = 2000;
const RETRY_MS = 250;

interface Candidate {
  elector: LeaderElector;
  started: number;
  stopped: number;
  leaderSignal?: AbortSignal;
}

describe("leader election (real API server)", () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let client: ClusterClient;
  const running: Candidate[] = [];

  before(async () => {
    ns = await tempNamespace();
    client = clusterClient();
  });

  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.elector.stop()));
  });

  after(async () => {
    await ns?.remove();
    await client?.close();
  });

  const candidate = (lease: string, identity: string, releaseOnStop = true): Candidate => {
    const c: Candidate = { started: 0, stopped: 0, elector: undefined as unknown as LeaderElector };
    c.elector = createLeaderElector({
      client,
      namespace: ns.name,
      name: lease,
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: RENEW_MS,
      retryPeriodMs: RETRY_MS,
      releaseOnStop,
      logger: testLogger(),
      onStartedLeading: (signal) => {
        c.started++;
        c.leaderSignal = signal;
      },
      onStoppedLeading: () => c.stopped++,
    });
    running.push(c);
    void c.elector.run();
    return c;
  };

  const holder = async (lease: string) => (await kubectlJson<LeaseObject>(["get", "lease", lease, "-n", ns.name])).spec?.holderIdentity;
  const leading = (c: Candidate) => eventually("leadership", async () => (c.elector.isLeader() ? true : undefined), 15_000, 50);

  it("elects one leader and hands over at once when it stops", async () => {
    const a = candidate("handover", "replica-a");
    await leading(a);
    const b = candidate("handover", "replica-b");
    // B keeps campaigning for well over a lease duration without winning.
    await new Promise((r) => setTimeout(r, LEASE_MS + 500));
    assert.equal(b.elector.isLeader(), false);
    assert.equal(await holder("handover"), "replica-a");

    const stoppedAt = Date.now();
    await a.elector.stop();
    assert.equal(a.stopped, 1);
    assert.equal(a.leaderSignal?.aborted, true);
    await leading(b);
    assert.ok(Date.now() - stoppedAt < LEASE_MS, "a released lease is taken without waiting for it to expire");
    assert.equal(await holder("handover"), "replica-b");
    const lease = await kubectlJson<LeaseObject>(["get", "lease", "handover", "-n", ns.name]);
    assert.equal(lease.spec?.leaseTransitions, 1, "created by A (0), taken over by B (1)");
  });

  it("takes over from a leader that died only after the lease expired", async () => {
    const a = candidate("expiry", "replica-a", false);
    await leading(a);
    const b = candidate("expiry", "replica-b");
    await new Promise((r) => setTimeout(r, 2 * RETRY_MS));
    const diedAt = Date.now();
    await a.elector.stop(); // no release: the Lease stays with A, as after a crash
    assert.equal(await holder("expiry"), "replica-a");
    await leading(b);
    assert.ok(Date.now() - diedAt >= LEASE_MS - RETRY_MS, `took over after ${Date.now() - diedAt}ms, before the lease could expire`);
    assert.equal(await holder("expiry"), "replica-b");
  });

  it("steps down at once when another holder takes the lease", async () => {
    const a = candidate("usurped", "replica-a");
    await leading(a);
    const later = new Date(Date.now() + 60_000).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
    await kubectlOk(["patch", "lease", "usurped", "-n", ns.name, "--type=merge", "-p",
      JSON.stringify({ spec: { holderIdentity: "intruder", leaseDurationSeconds: 60, renewTime: later } })]);
    await eventually("A to step down", async () => (a.stopped === 1 ? true : undefined), RENEW_MS, 50);
    assert.equal(a.elector.isLeader(), false);
    assert.equal(a.leaderSignal?.aborted, true);
    assert.equal(await holder("usurped"), "intruder");
  });
});
