import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeConfigFor, loadKubeConfig, serverOf } from "../../../src/kube/config.ts";

const kubeconfig = (name: string, server: string, contexts: string[] = [name]) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: contexts.map((c) => ({ name: c, cluster: { server: c === name ? server : `https://${c}.example:6443` } })),
    users: [{ name: "u", user: { token: "t" } }],
    contexts: contexts.map((c) => ({ name: c, context: { cluster: c, user: "u" } })),
    "current-context": name,
  });

describe("kube config", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "aviary-kubeconfig-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("loads an explicit path", () => {
    const file = join(dir, "config");
    writeFileSync(file, kubeconfig("local", "https://127.0.0.1:16443"));
    assert.equal(serverOf(loadKubeConfig(file)), "https://127.0.0.1:16443");
  });

  it("reads KUBECONFIG, merging a list of files with the first one's context winning", () => {
    const first = join(dir, "first");
    const second = join(dir, "second");
    writeFileSync(first, kubeconfig("one", "https://one:6443"));
    writeFileSync(second, kubeconfig("two", "https://two:6443"));
    const kc = loadKubeConfig({ env: { KUBECONFIG: `${first}:${second}`, HOME: dir } });
    assert.equal(serverOf(kc), "https://one:6443");
    assert.deepEqual(kc.getContexts().map((c) => c.name), ["one", "two"]);
  });

  it("switches context on request and says when it does not exist", () => {
    const file = join(dir, "config");
    writeFileSync(file, kubeconfig("a", "https://a:6443", ["a", "b"]));
    assert.equal(serverOf(loadKubeConfig({ path: file, context: "b" })), "https://b.example:6443");
    assert.throws(() => loadKubeConfig({ path: file, context: "c" }), /no context named c/);
  });

  it("falls back to ~/.kube/config", () => {
    mkdirSync(join(dir, ".kube"));
    writeFileSync(join(dir, ".kube", "config"), kubeconfig("home", "https://home:6443"));
    assert.equal(serverOf(loadKubeConfig({ env: { HOME: dir } })), "https://home:6443");
  });

  it("says what is missing instead of defaulting to localhost:8080", () => {
    assert.throws(() => loadKubeConfig({ env: { HOME: dir } }), /no Kubernetes cluster configured/);
    assert.throws(() => loadKubeConfig(join(dir, "absent")), /kubeconfig .*absent does not exist/);
  });

  it("builds a config for a bare server", () => {
    const kc = kubeConfigFor("http://127.0.0.1:1234", { token: "abc" });
    assert.equal(serverOf(kc), "http://127.0.0.1:1234");
    assert.equal(kc.getCurrentCluster()?.skipTLSVerify, true);
    assert.equal(kc.getCurrentUser()?.token, "abc");
  });
});
