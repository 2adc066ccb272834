import assert from "node:assert/strict";
import { ADAPTIVE_CARD_CONTENT_TYPE, createTeamsNotifier } from "../../../src/notifier/msteams.ts";
import { createDiscordNotifier, DISCORD_LIMITS } from "../../../src/notifier/discord.ts";
import { buildAlertMessage } from "../../../src/notifier/message.ts";
import { createSlackNotifier } from "../../../src/notifier/slack.ts";
import { createWebhookNotifier } from "../../../src/notifier/webhook.ts";
import { NOW, canaryWith, checkFailedMessage } from "./fixtures.ts";
import { startLocalServer } from "../../support/local-server.ts";
import type { LocalServer } from "../../support/local-server.ts";

type Json = Record<string, unknown>;
const asObj = (v: unknown): Json => {
  assert.equal(typeof v, "object");
  assert.ok(v !== null && !Array.isArray(v));
  return v as Json;
};
const asArr = (v: unknown): unknown[] => {
  assert.ok(Array.isArray(v), `expected an array, got ${JSON.stringify(v)}`);
  return v;
};

describe("notifier providers (payloads against a local receiver)", () => {
  let server: LocalServer;
  beforeEach(async () => {
    server = await startLocalServer();
  });
  afterEach(async () => {
    await server.close();
  });

  describe("slack", () => {
    it("posts an incoming-webhook body: text, one coloured attachment with fields, channel and username", async () => {
      const notifier = createSlackNotifier({ target: { address: `${server.origin}/services/T000/B000/XXXX`, channel: "#deploys", username: "aviary" } });
      await notifier.send(checkFailedMessage());
      assert.equal(server.requests.length, 1);
      const req = server.requests[0]!;
      assert.equal(req.method, "POST");
      assert.equal(req.target, "/services/T000/B000/XXXX");
      assert.equal(req.headers["content-type"], "application/json");
      const body = asObj(req.json());
      assert.deepEqual(Object.keys(body).sort(), ["attachments", "channel", "text", "username"]);
      assert.equal(body.text, "test/podinfo: check failed for revision 7c9f6d (1/2)");
      assert.equal(body.channel, "#deploys");
      assert.equal(body.username, "aviary");
      const [attachment] = asArr(body.attachments);
      const a = asObj(attachment);
      assert.equal(a.color, "#ECB22E");
      // Slack reads "<...>" as a link or mention: the comparison must arrive escaped.
      assert.equal(a.text, "Analysis failed (1/2): request-success-rate 93.1% &lt; 99%");
      assert.match(String(a.fallback), /^test\/podinfo: check failed/);
      assert.deepEqual(asArr(a.fields)[0], { title: "Canary", value: "test/podinfo", short: true });
      assert.ok(asArr(a.fields).some((f) => asObj(f).title === "Changed by" && asObj(f).value === "alice@example.com"));
      assert.equal(a.ts, Math.floor(NOW.getTime() / 1000));
      assert.deepEqual(a.mrkdwn_in, ["text"]);
    });

    it("leaves channel and username out when the provider sets none, and colours by severity", async () => {
      const notifier = createSlackNotifier({ target: { address: `${server.origin}/hook` } });
      const rolledBack = buildAlertMessage(canaryWith(), { reason: "RolledBack", message: "rolled back", severity: "error" }, NOW);
      const promoted = buildAlertMessage(canaryWith(), { reason: "Promoted", message: "promoted", severity: "info" }, NOW);
      await notifier.send(rolledBack);
      await notifier.send(promoted);
      const [first, second] = server.requests.map((r) => asObj(r.json()));
      assert.ok(!("channel" in first!) && !("username" in first!));
      assert.equal(asObj(asArr(first!.attachments)[0]).color, "#E01E5A");
      assert.equal(asObj(asArr(second!.attachments)[0]).color, "#2EB67D");
    });
  });

  describe("msteams", () => {
    it("posts a Workflows message with one Adaptive Card: coloured header, reason lines, facts", async () => {
      server.handle(() => ({ status: 202 }));
      const notifier = createTeamsNotifier({ target: { address: `${server.origin}/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t` } });
      const message = buildAlertMessage(
        canaryWith(),
        { reason: "RolledBack", message: "rolled back revision 7c9f6d: threshold reached", severity: "error" },
        NOW,
      );
      await notifier.send(message);
      const body = asObj(server.requests[0]!.json());
      assert.equal(body.type, "message");
      const attachments = asArr(body.attachments);
      assert.equal(attachments.length, 1);
      const attachment = asObj(attachments[0]);
      assert.equal(attachment.contentType, ADAPTIVE_CARD_CONTENT_TYPE);
      assert.equal(attachment.contentType, "application/vnd.microsoft.card.adaptive");
      assert.equal(attachment.contentUrl, null);
      const card = asObj(attachment.content);
      assert.equal(card.type, "AdaptiveCard");
      assert.equal(card.$schema, "http://adaptivecards.io/schemas/adaptive-card.json");
      assert.equal(card.version, "1.4");
      const blocks = asArr(card.body).map(asObj);
      const header = blocks[0]!;
      assert.equal(header.type, "Container");
      assert.equal(header.style, "attention");
      assert.equal(asObj(asArr(header.items)[0]).text, "test/podinfo: revision 7c9f6d rolled back");
      // One TextBlock per line: Teams does not break a TextBlock on a single newline.
      const texts = blocks.filter((b) => b.type === "TextBlock").map((b) => b.text);
      assert.equal(texts[0], "Rolled back revision 7c9f6d: threshold reached");
      assert.equal(texts[1], "• request-success-rate 93.1% < 99%");
      const facts = asArr(blocks.find((b) => b.type === "FactSet")!.facts).map(asObj);
      assert.deepEqual(facts[0], { title: "Canary", value: "test/podinfo" });
      assert.ok(facts.some((f) => f.title === "Failed checks" && f.value === "1/2"));
    });

    it("uses the warning and good styles for warn and info", async () => {
      const notifier = createTeamsNotifier({ target: { address: `${server.origin}/t` } });
      await notifier.send(checkFailedMessage());
      await notifier.send(buildAlertMessage(canaryWith(), { reason: "Promoted", message: "ok", severity: "info" }, NOW));
      const styles = server.requests.map((r) => asObj(asArr(asObj(asObj(asArr(asObj(r.json()).attachments)[0]).content).body)[0]).style);
      assert.deepEqual(styles, ["warning", "good"]);
    });
  });

  describe("discord", () => {
    it("posts content plus one embed with an integer colour, inline fields, timestamp and no mentions", async () => {
      server.handle(() => ({ status: 204 }));
      const notifier = createDiscordNotifier({ target: { address: `${server.origin}/api/webhooks/123/tok`, username: "aviary" } });
      await notifier.send(checkFailedMessage());
      const body = asObj(server.requests[0]!.json());
      assert.equal(body.content, "test/podinfo: check failed for revision 7c9f6d (1/2)");
      assert.equal(body.username, "aviary");
      assert.deepEqual(body.allowed_mentions, { parse: [] });
      const embeds = asArr(body.embeds).map(asObj);
      assert.equal(embeds.length, 1);
      const embed = embeds[0]!;
      assert.equal(embed.color, 0xecb22e);
      assert.equal(embed.description, "Analysis failed (1/2): request-success-rate 93.1% < 99%");
      assert.equal(embed.timestamp, "2025-03-01T12:00:00.000Z");
      assert.deepEqual(asArr(embed.fields)[1], { name: "Phase", value: "Progressing", inline: true });
    });

    it("truncates to Discord's documented limits instead of being rejected", async () => {
      const notifier = createDiscordNotifier({ target: { address: `${server.origin}/api/webhooks/1/t`, username: "u".repeat(200) } });
      const long = buildAlertMessage(canaryWith(), { reason: "CheckFailed", message: "x".repeat(10_000), severity: "warn", changedBy: "y".repeat(3000) }, NOW);
      await notifier.send(long);
      const body = asObj(server.requests[0]!.json());
      const embed = asObj(asArr(body.embeds)[0]);
      assert.equal(String(embed.description).length, DISCORD_LIMITS.description);
      assert.ok(String(embed.description).endsWith("…"));
      assert.equal(String(body.username).length, DISCORD_LIMITS.username);
      for (const f of asArr(embed.fields).map(asObj)) assert.ok(String(f.value).length <= DISCORD_LIMITS.fieldValue);
    });
  });

  describe("generic webhook", () => {
    it("posts aviary's documented JSON body", async () => {
      const notifier = createWebhookNotifier({ target: { address: `${server.origin}/alerts` } });
      const message = checkFailedMessage();
      await notifier.send({ ...message, metadata: { alert: "on-call", provider: "test/hooks" } });
      const req = server.requests[0]!;
      assert.equal(req.headers.authorization, undefined);
      assert.deepEqual(req.json(), {
        schemaVersion: 1,
        name: "podinfo",
        namespace: "test",
        phase: "Progressing",
        reason: "CheckFailed",
        severity: "warn",
        summary: "test/podinfo: check failed for revision 7c9f6d (1/2)",
        message: "Analysis failed (1/2): request-success-rate 93.1% < 99%",
        revision: "7c9f6d",
        changedBy: "alice@example.com",
        weight: 20,
        failedChecks: 1,
        threshold: 2,
        failedCheckDetails: ["request-success-rate 93.1% < 99%"],
        metadata: { alert: "on-call", provider: "test/hooks" },
        timestamp: "2025-03-01T12:00:00.000Z",
      });
    });

    it("sends the Secret's token as a bearer token and null for unknown revision and author", async () => {
      const notifier = createWebhookNotifier({ target: { address: `${server.origin}/alerts`, token: "t0k3n-value" } });
      const canary = canaryWith([], { canaryRevision: undefined });
      await notifier.send(buildAlertMessage(canary, { reason: "Initialized", message: "ready", severity: "info" }, NOW));
      const req = server.requests[0]!;
      assert.equal(req.headers.authorization, "Bearer t0k3n-value");
      const body = asObj(req.json());
      assert.equal(body.revision, null);
      assert.equal(body.changedBy, null);
    });
  });
});
