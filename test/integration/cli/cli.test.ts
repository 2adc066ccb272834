/**
 * The `aviary` CLI against the real API server, run as a separate process. No controller
 * runs: the tests write a Canary's status themselves and check what the CLI prints, the
 * exit codes, and the annotations the request commands leave on the Canary.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "mocha";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { clusterClient, createCanary, createNamespace, ensureCanaryCrd, readCanary, runCli, setStatus, startCli } from "./support.ts";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("aviary CLI (integration)", function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let ns: string;

  before(async () => {
    client = clusterClient();
    await ensureCanaryCrd(client);
    ns = await createNamespace(client);
  });

  after(async () => {
    if (ns) await client.delete({ apiVersion: "v1", kind: "Namespace", name: ns });
    await client?.close();
  });

  describe("get and status", () => {
    before(async () => {
      await createCanary(client, ns, "web");
      await createCanary(client, ns, "api");
      await setStatus(client, ns, "web", {
        phase: "Progressing",
        canaryWeight: 20,
        failedChecks: 1,
        lastTransitionTime: new Date(Date.now() - 90_000).toISOString(),
        canaryRevision: "c0ffee",
        conditions: [{ type: "Promoted", status: "Unknown", reason: "Progressing", message: "advancing canary weight to 20%" }],
        lastAnalysis: [{ name: "request-success-rate", kind: "metric", verdict: "fail", value: 97.5, min: 99, message: "request-success-rate 97.5% < 99%", time: new Date().toISOString() }],
      });
      await setStatus(client, ns, "api", { phase: "Failed", canaryWeight: 0, failedChecks: 5, lastTransitionTime: new Date().toISOString() });
    });

    it("get lists the canaries with the status the controller wrote", async () => {
      const r = await runCli(["get", "-n", ns]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assert.match(lines[0]!, /^NAME +STATUS +WEIGHT +FAILEDCHECKS +LASTTRANSITION$/);
      assert.match(lines[1]!, /^api +Failed +0 +5 +\d+s$/);
      assert.match(lines[2]!, /^web +Progressing +20 +1 +(89|9\d|1\d\d)s$/);
      assert.equal(lines.length, 3);
    });

    it("get -A shows the namespace, -o json the objects, and a missing name exits 3", async () => {
      const all = await runCli(["get", "-A"]);
      assert.equal(all.code, 0, all.stderr);
      assert.match(all.stdout, new RegExp(`^${ns} +web +Progressing +20 +1 `, "m"));
      const json = await runCli(["get", "web", "-n", ns, "-o", "json"]);
      assert.equal(json.code, 0, json.stderr);
      const list = JSON.parse(json.stdout) as { items: { metadata: { name: string; managedFields?: unknown }; status: { canaryWeight: number } }[] };
      assert.deepEqual(list.items.map((i) => [i.metadata.name, i.status.canaryWeight, i.metadata.managedFields]), [["web", 20, undefined]]);
      const missing = await runCli(["get", "web", "nope", "-n", ns]);
      assert.equal(missing.code, 3);
      assert.match(missing.stdout, /^web +Progressing/m);
      assert.match(missing.stderr, new RegExp(`error: canary "nope" not found in namespace "${ns}"`));
    });

    it("status prints the state and the last analysis, exiting 0 while the run is healthy", async () => {
      const r = await runCli(["status", "web", "-n", ns]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Status: +Progressing \(since \d\d:\d\d:\d\d, \d+s ago\)$/m);
      assert.match(r.stdout, /^Traffic: +canary 20% \| primary 80%$/m);
      assert.match(r.stdout, /^Failed checks: +1\/5$/m);
      assert.match(r.stdout, /^Revision: +canary c0ffee$/m);
      assert.match(r.stdout, /^Message: +advancing canary weight to 20%$/m);
      assert.match(r.stdout, /^ {2}fail {3}request-success-rate 97.5% < 99%$/m);
    });

    it("status exits 1 for a Failed run, 3 for an unknown canary and 2 when the name is ambiguous", async () => {
      const failed = await runCli(["status", "api", "-n", ns]);
      assert.equal(failed.code, 1, failed.stderr);
      assert.match(failed.stdout, /^Status: +Failed/m);
      const unknown = await runCli(["status", "nope", "-n", ns]);
      assert.equal(unknown.code, 3);
      assert.equal(unknown.stderr, `error: canary "nope" not found in namespace "${ns}" (aviary get -n ${ns} lists them)\n`);
      assert.equal(unknown.stdout, "");
      const ambiguous = await runCli(["status", "-n", ns]);
      assert.equal(ambiguous.code, 2);
      assert.match(ambiguous.stderr, new RegExp(`namespace "${ns}" has 2 canaries \\(api, web\\): name one`));
    });
  });

  describe("requests", () => {
    const annotations = async (name: string) => (await readCanary(client, ns, name)).metadata.annotations ?? {};

    it("promote on a running canary writes aviary.dev/promote and says what happens", async () => {
      await createCanary(client, ns, "promo");
      await setStatus(client, ns, "promo", { phase: "WaitingPromotion", canaryWeight: 50, canaryRevision: "beef" });
      const r = await runCli(["promote", "promo", "-n", ns]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^promotion requested for ${ns}/promo \\(aviary.dev/promote=\\S+\\): the confirm-promotion gate opens and revision beef is promoted\\n$`));
      assert.match((await annotations("promo"))["aviary.dev/promote"] ?? "", ISO);
    });

    it("promote with nothing running exits 1 and writes nothing", async () => {
      await createCanary(client, ns, "idle");
      await setStatus(client, ns, "idle", { phase: "Succeeded", canaryWeight: 0 });
      const r = await runCli(["promote", "idle", "-n", ns, "--yes"]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `error: cannot promote ${ns}/idle: no run is in progress (phase Succeeded)\n`);
      assert.deepEqual(await annotations("idle"), {});
    });

    it("abort on a progressing canary writes aviary.dev/abort", async () => {
      await createCanary(client, ns, "abortme");
      await setStatus(client, ns, "abortme", { phase: "Progressing", canaryWeight: 30 });
      const r = await runCli(["abort", "abortme", "-n", ns]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^abort requested for .*all traffic returns to the primary/);
      assert.match((await annotations("abortme"))["aviary.dev/abort"] ?? "", ISO);
    });

    it("retry writes a new aviary.dev/retry value on a Failed canary only", async () => {
      await createCanary(client, ns, "again");
      await setStatus(client, ns, "again", { phase: "Progressing", canaryWeight: 10 });
      const early = await runCli(["retry", "again", "-n", ns]);
      assert.equal(early.code, 1);
      assert.match(early.stderr, /only a Failed canary can be retried \(phase Progressing\)/);
      await setStatus(client, ns, "again", { phase: "Failed", canaryWeight: 0, failedChecks: 5 });
      const first = await runCli(["retry", "again", "-n", ns]);
      assert.equal(first.code, 0, first.stderr);
      const firstValue = (await annotations("again"))["aviary.dev/retry"];
      assert.match(firstValue ?? "", ISO);
      const second = await runCli(["retry", "again", "-n", ns]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, new RegExp(`note: it replaces a request still pending since ${firstValue}`));
      const secondValue = (await annotations("again"))["aviary.dev/retry"];
      assert.ok(secondValue !== undefined && secondValue > firstValue!, `${secondValue} after ${firstValue}`);
    });

    it("pause sets aviary.dev/paused=true, status shows it, resume removes it", async () => {
      await createCanary(client, ns, "hold");
      await setStatus(client, ns, "hold", { phase: "Progressing", canaryWeight: 20 });
      const paused = await runCli(["pause", "hold", "-n", ns]);
      assert.equal(paused.code, 0, paused.stderr);
      assert.match(paused.stdout, /^paused .*\/hold \(aviary.dev\/paused=true\): the run holds at its current step/);
      assert.equal((await annotations("hold"))["aviary.dev/paused"], "true");
      const again = await runCli(["pause", "hold", "-n", ns]);
      assert.equal(again.code, 0);
      assert.equal(again.stdout, `${ns}/hold is already paused\n`);
      const status = await runCli(["status", "hold", "-n", ns]);
      assert.match(status.stdout, /^Paused: +yes/m);
      const resumed = await runCli(["resume", "hold", "-n", ns]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /^resumed .*\/hold \(aviary.dev\/paused removed\)/);
      assert.equal((await annotations("hold"))["aviary.dev/paused"], undefined);
    });

    it("a request for an unknown canary exits 3", async () => {
      const r = await runCli(["abort", "ghost", "-n", ns]);
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`^error: canary "ghost" not found in namespace "${ns}"`));
    });
  });

  describe("status -w", () => {
    it("prints a line per change, the verdicts when they change, and exits 1 when the run fails", async () => {
      await createCanary(client, ns, "watched");
      await setStatus(client, ns, "watched", { phase: "Progressing", canaryWeight: 10, failedChecks: 0 });
      const cli = startCli(["status", "watched", "-w", "-n", ns]);
      await cli.waitForLine(/^\[\d\d:\d\d:\d\d\] Progressing \| canary 10% \| primary 90% \| checks 0\/5$/);
      // A status write that changes none of the followed numbers prints nothing.
      await setStatus(client, ns, "watched", { lastCheckTime: new Date().toISOString() });
      await setStatus(client, ns, "watched", { canaryWeight: 20 });
      await cli.waitForLine(/Progressing \| canary 20% \| primary 80% \| checks 0\/5$/);
      await setStatus(client, ns, "watched", {
        failedChecks: 1,
        lastAnalysis: [{ name: "request-duration", kind: "metric", verdict: "fail", message: "request-duration 830ms > 500ms", time: new Date().toISOString() }],
      });
      await cli.waitForLine(/^ {11}fail {3}request-duration 830ms > 500ms$/);
      await setStatus(client, ns, "watched", { phase: "Failed", canaryWeight: 0, failedChecks: 5 });
      const result = await cli.exited;
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stdout.trimEnd().split("\n").map((l) => l.replace(/^\[\d\d:\d\d:\d\d\]/, "[t]"));
      assert.deepEqual(lines, [
        "[t] Progressing | canary 10% | primary 90% | checks 0/5",
        "[t] Progressing | canary 20% | primary 80% | checks 0/5",
        "[t] Progressing | canary 20% | primary 80% | checks 1/5",
        "           fail   request-duration 830ms > 500ms",
        "[t] Failed | canary 0% | primary 100% | checks 5/5",
      ]);
    });

    it("exits 0 when the run succeeds", async () => {
      await createCanary(client, ns, "happy");
      await setStatus(client, ns, "happy", { phase: "Progressing", canaryWeight: 50 });
      const cli = startCli(["status", "happy", "-w", "-n", ns]);
      await cli.waitForLine(/Progressing \| canary 50%/);
      await setStatus(client, ns, "happy", { phase: "Promoting", canaryWeight: 50 });
      await cli.waitForLine(/Promoting \| canary 50%/);
      await setStatus(client, ns, "happy", { phase: "Succeeded", canaryWeight: 0 });
      const result = await cli.exited;
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /\] Succeeded \| canary 0% \| primary 100% \| checks 0\/5\n$/);
    });

    it("with --next-run waits past the outcome already shown for the next run", async () => {
      await createCanary(client, ns, "nextrun");
      await setStatus(client, ns, "nextrun", { phase: "Succeeded", canaryWeight: 0 });
      const cli = startCli(["status", "nextrun", "--next-run", "-n", ns]);
      await cli.waitForLine(/Succeeded \| canary 0%/);
      await setStatus(client, ns, "nextrun", { phase: "Progressing", canaryWeight: 10 });
      await cli.waitForLine(/Progressing \| canary 10%/);
      await setStatus(client, ns, "nextrun", { phase: "Succeeded", canaryWeight: 0 });
      const result = await cli.exited;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trimEnd().split("\n").length, 3);
    });

    it("exits 3 when the canary is deleted, and at once when it does not exist", async () => {
      await createCanary(client, ns, "doomed");
      await setStatus(client, ns, "doomed", { phase: "Progressing", canaryWeight: 10 });
      const cli = startCli(["status", "doomed", "-w", "-n", ns]);
      await cli.waitForLine(/Progressing/);
      await client.delete({ apiVersion: "aviary.dev/v1beta1", kind: "Canary", namespace: ns, name: "doomed" });
      const result = await cli.exited;
      assert.equal(result.code, 3);
      assert.equal(result.stderr, `canary ${ns}/doomed was deleted\n`);
      const missing = await runCli(["status", "doomed", "-w", "-n", ns]);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /not found/);
    });

    it("gives up with exit 4 after --timeout, and stops with 130 on Ctrl-C", async () => {
      await createCanary(client, ns, "slow");
      await setStatus(client, ns, "slow", { phase: "Progressing", canaryWeight: 10 });
      const timedOut = await runCli(["status", "slow", "-w", "--timeout", "2s", "-n", ns]);
      assert.equal(timedOut.code, 4);
      assert.equal(timedOut.stderr, `timed out after 2s waiting for ${ns}/slow to settle (phase Progressing)\n`);
      const cli = startCli(["status", "slow", "-w", "-n", ns]);
      await cli.waitForLine(/Progressing/);
      // Give the watch a moment to open, so the interrupt lands in the informer, not the first get.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      cli.kill();
      const result = await cli.exited;
      assert.equal(result.code, 130);
      assert.equal(result.stderr, "");
    });
  });
});
