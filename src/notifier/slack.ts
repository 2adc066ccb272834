/**
 * Slack incoming webhooks (https://api.slack.com/messaging/webhooks). The body is the
 * documented `text` (what notifications and screen readers show) plus one attachment
 * carrying the severity colour bar, the reason and the fields; attachments are the only
 * way Slack colours a message. `channel` and `username` are sent when the AlertProvider
 * sets them: legacy webhooks and Slack-compatible services honour them, app webhooks post
 * to the channel they were created for. Text is escaped as Slack requires (&, <, >), so a
 * check message like `93.1% < 99%` is shown, not read as a link.
 */
import { postingNotifier } from "./http.ts";
import { SEVERITY_COLORS, plainText } from "./message.ts";
import type { AlertMessage, Notifier, NotifierInit, NotifierTarget } from "./types.ts";

export interface SlackAttachment {
  color: string;
  fallback: string;
  text: string;
  fields: Array<{ title: string; value: string; short: boolean }>;
  footer: string;
  /** Epoch seconds. */
  ts: number;
  mrkdwn_in: string[];
}

export interface SlackPayload {
  text: string;
  attachments: SlackAttachment[];
  channel?: string;
  username?: string;
}

export function slackPayload(message: AlertMessage, target: Pick<NotifierTarget, "channel" | "username">): SlackPayload {
  const payload: SlackPayload = {
    text: escapeSlack(message.title),
    attachments: [
      {
        color: SEVERITY_COLORS[message.severity],
        fallback: escapeSlack(plainText(message)),
        text: escapeSlack(message.text),
        fields: message.fields.map((f) => ({ title: escapeSlack(f.name), value: escapeSlack(f.value), short: true })),
        footer: `aviary · ${message.reason} · ${message.severity}`,
        ts: Math.floor(Date.parse(message.timestamp) / 1000),
        mrkdwn_in: ["text"],
      },
    ],
  };
  if (target.channel) payload.channel = target.channel;
  if (target.username) payload.username = target.username;
  return payload;
}

/** Slack's three control characters, as its formatting guide says to escape them. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function createSlackNotifier(init: NotifierInit): Notifier {
  return postingNotifier("slack", init, (m) => slackPayload(m, init.target));
}
