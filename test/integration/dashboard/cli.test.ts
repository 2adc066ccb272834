/** `aviary dashboard` as users start it: a process on $KUBECONFIG that prints its address and serves the page until Ctrl-C. */
import assert from "node:assert/strict";
import type { ClusterClient } from "../../../src/kube/client.ts";
import type { CanarySummary } from "../../../src/dashboard/model.ts";
import { clusterClient, createCanary, createNamespace, ensureCanaryCrd, setStatus, startCli } from "../cli/support.ts";

describe("aviary dashboard (CLI)", function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let ns: string;

  before(async () => {
    client = clusterClient();
    await ensureCanaryCrd(client);
    ns = await createNamespace(client);
    await createCanary(client, ns, "web");
    await setStatus(client, ns, "web", { phase: "Succeeded", canaryWeight: 0, failedChecks: 0 });
  });
  after(async () => {
    await client?.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => {});
    await client?.close();
  });

  it("prints its address, serves the namespace's Canaries, and stops on Ctrl-C", async () => {
    const cli = startCli(["dashboard", "-n", ns, "--port", "0"]);
    const line = await cli.waitForLine(/aviary dashboard for namespace/);
    const url = /(http:\/\/\S+)/.exec(line)?.[1];
    assert.ok(url, line);
    const body = (await (await fetch(`${url}api/canaries`)).json()) as { hello: { actions: boolean; scope: string }; canaries: CanarySummary[] };
    assert.equal(body.hello.actions, true);
    assert.equal(body.hello.scope, `namespace ${ns}`);
    assert.deepEqual(body.canaries.map((c) => [c.name, c.phase]), [["web", "Succeeded"]]);
    const page = await fetch(url);
    assert.match(await page.text(), /<script type="module" src="\/static\/app.js">/);
    cli.kill();
    const done = await cli.exited;
    assert.equal(done.code, 130, done.stderr);
    await assert.rejects(fetch(url, { signal: AbortSignal.timeout(5_000) }), "the server is gone");
  });

  it("names a bad port", async () => {
    const cli = startCli(["dashboard", "-n", ns, "--port", "http"]);
    const done = await cli.exited;
    assert.equal(done.code, 2);
    assert.match(done.stderr, /--port must be a number from 0 to 65535, got "http"/);
  });
});
