/**
 * Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request
 * is received"), which replaced the retired Office 365 connectors. aviary sends what that
 * flow documents: a `message` whose one attachment is an Adaptive Card (schema 1.4,
 * contentType `application/vnd.microsoft.card.adaptive`). Legacy MessageCard payloads are
 * not sent: Workflows do not render them.
 *
 * The card: a coloured header container (good / warning / attention by severity) with the
 * headline, one TextBlock per line of the reason (TextBlocks do not break on a single
 * newline), and a FactSet of the fields.
 */
import type { AlertSeverity } from "../api/types.ts";
import { postingNotifier } from "./http.ts";
import type { AlertMessage, Notifier, NotifierInit } from "./types.ts";

export const ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive";
export const ADAPTIVE_CARD_VERSION = "1.4";

const CONTAINER_STYLES: Readonly<Record<AlertSeverity, string>> = {
  info: "good",
  warn: "warning",
  error: "attention",
};

export interface TeamsPayload {
  type: "message";
  attachments: Array<{
    contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE;
    contentUrl: null;
    content: AdaptiveCard;
  }>;
}

export interface AdaptiveCard {
  $schema: string;
  type: "AdaptiveCard";
  version: string;
  msteams: { width: "Full" };
  body: Array<Record<string, unknown>>;
}

export function teamsPayload(message: AlertMessage): TeamsPayload {
  const lines = message.text.split("\n").filter((line) => line.trim() !== "");
  const card: AdaptiveCard = {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: ADAPTIVE_CARD_VERSION,
    msteams: { width: "Full" },
    body: [
      {
        type: "Container",
        style: CONTAINER_STYLES[message.severity],
        bleed: true,
        items: [{ type: "TextBlock", text: message.title, weight: "Bolder", size: "Medium", wrap: true }],
      },
      ...lines.map((line, i) => ({ type: "TextBlock", text: line, wrap: true, spacing: i === 0 ? "Medium" : "None" })),
      { type: "FactSet", facts: message.fields.map((f) => ({ title: f.name, value: f.value })) },
      {
        type: "TextBlock",
        text: `aviary · ${message.reason} · ${message.severity} · ${message.timestamp}`,
        isSubtle: true,
        size: "Small",
        wrap: true,
      },
    ],
  };
  return {
    type: "message",
    attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }],
  };
}

export function createTeamsNotifier(init: NotifierInit): Notifier {
  return postingNotifier("msteams", init, teamsPayload);
}
