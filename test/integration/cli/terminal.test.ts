/**
 * What the CLI does for a person at a terminal, run in-process (a pipe cannot pretend to be
 * a TTY) against the real API server: the promote confirmation and the weight bar.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "mocha";
import { runCli } from "../../../src/cli/app.ts";
import type { CliIO } from "../../../src/cli/command.ts";
import { openSession } from "../../../src/cli/session.ts";
import type { ClusterClient } from "../../../src/kube/client.ts";
import { requireKubeconfig } from "../../support/kubectl.ts";
import { clusterClient, createCanary, createNamespace, ensureCanaryCrd, readCanary, setStatus } from "./support.ts";

function terminal(answers: (string | null)[]) {
  let out = "";
  let err = "";
  const questions: string[] = [];
  const io: CliIO = {
    stdout: { write: (t) => void (out += t), isTTY: true },
    stderr: { write: (t) => void (err += t), isTTY: true },
    interactive: true,
    ask: async (q) => {
      questions.push(q);
      return answers.shift() ?? null;
    },
    now: () => new Date(),
    signal: new AbortController().signal,
    connect: async (opts) => openSession({ ...opts, kubeconfig: requireKubeconfig() }),
  };
  return { io, out: () => out, err: () => err, questions };
}

describe("aviary CLI at a terminal (integration)", function () {
  this.timeout(60_000);
  let client: ClusterClient;
  let ns: string;

  before(async () => {
    client = clusterClient();
    await ensureCanaryCrd(client);
    ns = await createNamespace(client);
    await createCanary(client, ns, "web");
    await setStatus(client, ns, "web", { phase: "Progressing", canaryWeight: 30 });
  });

  after(async () => {
    if (ns) await client.delete({ apiVersion: "v1", kind: "Namespace", name: ns });
    await client?.close();
  });

  it("promote asks first and writes nothing unless the answer is yes", async () => {
    const no = terminal(["n"]);
    assert.equal(await runCli(["promote", "web", "-n", ns], no.io), 1);
    assert.deepEqual(no.questions, [`Promote ${ns}/web now (phase Progressing, canary at 30%)? [y/N] `]);
    assert.equal(no.err(), "promote cancelled: nothing was changed\n");
    assert.equal((await readCanary(client, ns, "web")).metadata.annotations?.["aviary.dev/promote"], undefined);

    const yes = terminal(["yes"]);
    assert.equal(await runCli(["promote", "web", "-n", ns], yes.io), 0, yes.err());
    assert.match(yes.out(), /^promotion requested for .*the remaining steps are skipped/);
    assert.ok((await readCanary(client, ns, "web")).metadata.annotations?.["aviary.dev/promote"]);
  });

  it("promote --yes does not ask", async () => {
    const t = terminal([]);
    assert.equal(await runCli(["promote", "web", "-n", ns, "--yes"], t.io), 0, t.err());
    assert.deepEqual(t.questions, []);
  });

  it("status (of the namespace's only canary, unnamed) draws the weight bar on a terminal", async () => {
    const t = terminal([]);
    assert.equal(await runCli(["status", "-n", ns], t.io), 0, t.err());
    assert.match(t.out(), /^Name: +web$/m);
    assert.match(t.out(), /^Traffic: +canary 30% \| primary 70% {2}\[███░░░░░░░\]$/m);
  });
});
