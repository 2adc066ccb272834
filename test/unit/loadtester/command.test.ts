import assert from "node:assert/strict";
import { parseCommand, taskFromMetadata } from "../../../src/loadtester/command.ts";
import { DEFAULT_LIMITS, scheduleWithin } from "../../../src/loadtester/bounds.ts";
import { seededRandom } from "../../../src/ground/random.ts";
import { hostRefusal } from "../../../src/loadtester/targets.ts";
import { CommandRefusedError, tokenize } from "../../../src/loadtester/tokenize.ts";

/** Asserts that `fn` refuses, naming `subject`, with a message containing each of `words`. */
function refuses(fn: () => unknown, subject: string, ...words: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CommandRefusedError, `expected a refusal, got ${String(err)}`);
    assert.equal(err.subject, subject, err.message);
    for (const w of [subject, ...words]) assert.ok(err.message.includes(w), `"${err.message}" should mention ${w}`);
    return true;
  });
}

describe("load tester command lines", () => {
  describe("tokenize", () => {
    it("splits words the way a shell does for one simple command", () => {
      assert.deepEqual(tokenize(`hey  -m POST -d '{test: 2}' -H "X-A: b c" http://a.b:1/`), ["hey", "-m", "POST", "-d", "{test: 2}", "-H", "X-A: b c", "http://a.b:1/"]);
      assert.deepEqual(tokenize(`a\\ b "q\\"x" 'it''s' ""`), ["a b", 'q"x', "its", ""]);
      assert.deepEqual(tokenize("hey http://svc/?a=1#frag"), ["hey", "http://svc/?a=1#frag"]);
    });

    it("refuses what would make a shell do more than run one program, naming the character", () => {
      refuses(() => tokenize("curl http://svc/ | grep ok"), "|", "shell");
      refuses(() => tokenize("hey http://svc/ && rm -rf /"), "&");
      refuses(() => tokenize("hey http://svc/; ls"), ";");
      refuses(() => tokenize("hey http://svc/ > /tmp/out"), ">");
      refuses(() => tokenize("hey $(cat /etc/passwd)"), "$");
      refuses(() => tokenize('hey "$HOME"'), "$");
      refuses(() => tokenize("hey `id`"), "`");
      refuses(() => tokenize("hey # comment"), "#");
      refuses(() => tokenize("hey 'open"), "'", "never closed");
      refuses(() => tokenize('hey "open'), '"', "never closed");
    });
  });

  describe("hey", () => {
    it("reads Flagger's tutorial command with hey's meanings (-q per worker, -z wins)", () => {
      const plan = parseCommand("hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/");
      assert.equal(plan.tool, "hey");
      assert.equal(plan.host, "podinfo-canary.test");
      assert.equal(plan.concurrency, 2);
      assert.equal(plan.ratePerSecond, 20);
      assert.equal(plan.durationMs, 60_000);
      assert.equal(plan.timeoutMs, 20_000);
      assert.equal(plan.target.kind, "http");
      if (plan.target.kind !== "http") return;
      assert.equal(plan.target.method, "GET");
      assert.equal(plan.target.url.href, "http://podinfo-canary.test:9898/");
      assert.equal(plan.target.keepAlive, true);
    });

    it("builds the request from -m, -d, -T, repeated -H, -A, -a, -host and -t", () => {
      const plan = parseCommand(
        `hey -n 30 -c 3 -m post -d '{"a": 1}' -T application/json -H "X-Trace: 1" -H 'X-Other: two words' -A text/plain -a u:p -host app.example.com -t 5 -disable-keepalive https://api.ns.svc.cluster.local/echo?x=1`,
      );
      assert.equal(plan.requests, 30);
      assert.equal(plan.durationMs, undefined);
      assert.equal(plan.ratePerSecond, undefined);
      assert.equal(plan.timeoutMs, 5000);
      assert.ok(plan.target.kind === "http");
      assert.equal(plan.target.method, "POST");
      assert.equal(plan.target.body, '{"a": 1}');
      assert.equal(plan.target.keepAlive, false);
      assert.deepEqual(
        Object.fromEntries(Object.entries(plan.target.headers).filter(([k]) => k !== "accept-encoding")),
        { "x-trace": "1", "x-other": "two words", "content-type": "application/json", accept: "text/plain", authorization: `Basic ${Buffer.from("u:p").toString("base64")}`, host: "app.example.com" },
      );
    });

    it("accepts Go flag spellings: -z=1m, --c 2, -disable-compression=true", () => {
      const plan = parseCommand("hey -z=30s --c 2 -q=1.5 -disable-compression=true http://svc/");
      assert.equal(plan.durationMs, 30_000);
      assert.equal(plan.concurrency, 2);
      assert.equal(plan.ratePerSecond, 3);
      assert.ok(plan.target.kind === "http" && plan.target.headers["accept-encoding"] === "identity");
    });

    it("refuses bad input naming the flag", () => {
      refuses(() => parseCommand("hey -z 1m -k http://svc/"), "-k", "unknown flag");
      refuses(() => parseCommand("hey -h2 http://svc/"), "-h2", "HTTP/2");
      refuses(() => parseCommand("hey -x http://proxy:3128 http://svc/"), "-x", "proxy");
      refuses(() => parseCommand("hey -D /etc/passwd -m POST http://svc/"), "-D", "files");
      refuses(() => parseCommand("hey -z soon http://svc/"), "-z", "duration");
      refuses(() => parseCommand("hey -z 0s http://svc/"), "-z", "longer than 0");
      refuses(() => parseCommand("hey -c two http://svc/"), "-c", "whole number");
      refuses(() => parseCommand("hey -c 0 http://svc/"), "-c", "at least 1");
      refuses(() => parseCommand("hey -q -1 http://svc/"), "-q");
      refuses(() => parseCommand("hey -n 1 -c 2 http://svc/"), "-n", "-c 2");
      refuses(() => parseCommand("hey -m BREW http://svc/"), "-m", "BREW");
      refuses(() => parseCommand("hey -H nocolon http://svc/"), "-H", "Name: value");
      refuses(() => parseCommand("hey -d x http://svc/"), "-d", "-m POST");
      refuses(() => parseCommand("hey -z 1m -z 2m http://svc/"), "-z", "more than once");
      refuses(() => parseCommand("hey -c"), "-c", "needs a value");
      refuses(() => parseCommand("hey -z 1m"), "URL", "missing");
      refuses(() => parseCommand("hey not-a-url"), "URL", "not a URL");
      refuses(() => parseCommand("hey ftp://svc/"), "URL", "http://");
      refuses(() => parseCommand("hey http://u:p@svc/"), "URL", "-a user:password");
      refuses(() => parseCommand("hey http://svc/ -z 1m"), "-z", "after the URL");
      refuses(() => parseCommand('hey http://svc/ ""'), "argument", "after the URL");
      refuses(() => parseCommand('"" http://svc/'), "cmd", "hey or ghz");
    });
  });

  describe("ghz", () => {
    it("reads a health-check command with ghz's meanings (-q over all workers)", () => {
      const plan = parseCommand(`ghz --insecure --proto=/tmp/ghz/health.proto --call=grpc.health.v1.Health/Check -z 1m -q 10 -c 2 -d '{"service":"podinfo"}' podinfo.test:9898`);
      assert.equal(plan.tool, "ghz");
      assert.equal(plan.host, "podinfo.test");
      assert.equal(plan.ratePerSecond, 10);
      assert.equal(plan.concurrency, 2);
      assert.equal(plan.durationMs, 60_000);
      assert.deepEqual(plan.target, { kind: "grpc-health", authority: "podinfo.test:9898", service: "podinfo" });
      const defaults = parseCommand("ghz --insecure --call grpc.health.v1.Health.Check [::1]:9000");
      assert.equal(defaults.host, "::1");
      assert.equal(defaults.requests, 200);
      assert.equal(defaults.concurrency, 50);
      assert.equal(defaults.timeoutMs, 20_000);
      assert.equal(parseCommand("ghz --insecure --call grpc.health.v1.Health/Check svc:80").host, "svc");
      // The host the connection dials, not the spelling: a decimal IPv4 is an IP.
      assert.equal(parseCommand("ghz --insecure --call grpc.health.v1.Health/Check 2130706433:9000").host, "127.0.0.1");
      assert.equal(parseCommand("hey http://0x7f.1:8080/").host, "127.0.0.1");
    });

    it("refuses what it cannot call, naming the flag", () => {
      refuses(() => parseCommand("ghz -z 1m -q 10 -c 2 --insecure podinfo.test:9898"), "--call", "reflection");
      refuses(() => parseCommand("ghz --insecure --call helloworld.Greeter/SayHello podinfo.test:9898"), "--call", "helloworld.Greeter/SayHello");
      refuses(() => parseCommand("ghz --call grpc.health.v1.Health/Check podinfo.test:9898"), "--insecure", "plaintext");
      refuses(() => parseCommand("ghz --insecure --cacert ca.pem --call grpc.health.v1.Health/Check podinfo.test:9898"), "--cacert");
      refuses(() => parseCommand("ghz --insecure --call grpc.health.v1.Health/Check --connections 4 podinfo.test:9898"), "--connections", "unknown flag");
      refuses(() => parseCommand("ghz --insecure --call grpc.health.v1.Health/Check podinfo.test"), "host", "host:port");
      refuses(() => parseCommand("ghz --insecure --call grpc.health.v1.Health/Check podinfo.test:0"), "host", "host:port");
      refuses(() => parseCommand("ghz --insecure --call grpc.health.v1.Health/Check user@podinfo.test:9000"), "host", "host:port");
      refuses(() => parseCommand(`ghz --insecure --call grpc.health.v1.Health/Check -d '{"name":"x"}' podinfo.test:9898`), "-d", '"name"');
    });
  });

  describe("webhook metadata", () => {
    it("treats a missing type as cmd, runs in the background unless blocking is asked, reads Go booleans", () => {
      const task = taskFromMetadata({ cmd: "hey -z 10s -q 1 -c 1 http://svc/" });
      assert.equal(task.blocking, false);
      assert.equal(task.logOutput, false);
      const blocking = taskFromMetadata({ type: "cmd", cmd: "hey -n 5 -c 1 http://svc/", blocking: "true", logCmdOutput: "1" });
      assert.equal(blocking.blocking, true);
      assert.equal(blocking.logOutput, true);
    });

    it("refuses other task types and programs by name", () => {
      refuses(() => taskFromMetadata({ type: "bash", cmd: "curl -s http://podinfo-canary.test/ | grep podinfo" }), "type", '"bash"', "runs no program");
      refuses(() => taskFromMetadata({ type: "helmv3", cmd: "test podinfo" }), "type", '"helmv3"');
      refuses(() => taskFromMetadata({ type: "tester", cmd: "x" }), "type", '"tester"', "unknown");
      refuses(() => taskFromMetadata({ type: "cmd" }), "cmd", "missing");
      refuses(() => taskFromMetadata({ cmd: "curl http://svc/" }), "curl", "hey", "ghz");
      refuses(() => taskFromMetadata({ cmd: "   " }), "cmd", "missing");
      refuses(() => taskFromMetadata({ cmd: "hey http://svc/", blocking: "yes" }), "blocking", '"yes"');
    });
  });

  it("answers 5000 random command lines with a plan or a refusal, never another error", () => {
    const random = seededRandom(42);
    const pieces = ["hey", "ghz", "-z", "1m", "-n", "-c", "-q", "0", "10", "-1", "1.5", "-m", "POST", "-H", "'X: y'", '"a b"', "-d", "{}", "-t", "-T",
      "--insecure", "--call", "grpc.health.v1.Health/Check", "http://svc/", "https://a.b.svc:1/x?y", "svc:9", "[::1]:1", "'", '"', "\\", "|", "$", "#",
      "-host", "=", "-z=", "--", "ftp://x", "http://", "1e9", "99999999999999999999", "-disable-keepalive=maybe", "\n", "\t", "é", "\u0000"];
    let plans = 0;
    for (let i = 0; i < 5000; i++) {
      const words = Array.from({ length: 1 + Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)]!);
      if (random() < 0.7) words.unshift(random() < 0.5 ? "hey" : "ghz");
      const cmd = words.join(random() < 0.9 ? " " : "");
      try {
        const task = taskFromMetadata({ cmd });
        hostRefusal(task.plan.host, { clusterDomain: "cluster.local", allowHosts: [] });
        scheduleWithin(task.plan, DEFAULT_LIMITS);
        plans++;
      } catch (err) {
        assert.ok(err instanceof CommandRefusedError, `${JSON.stringify(cmd)} threw ${String(err)}`);
        assert.ok(err.message.length > 0 && err.subject.length > 0);
      }
    }
    assert.ok(plans > 0, "some random lines are valid commands");
  });
});
