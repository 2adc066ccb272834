/**
 * Discord webhooks (https://discord.com/developers/docs/resources/webhook#execute-webhook):
 * `content` carries the headline (what a push notification shows), one embed carries the
 * reason, the severity colour (an integer) and the fields. Discord's documented limits are
 * applied by truncation rather than by a rejected message: content 2000, embed description
 * 4096, 25 fields with names of 256 and values of 1024 characters. `allowed_mentions` is
 * empty so text from a check or a user name can never ping @everyone.
 */
import { postingNotifier } from "./http.ts";
import { SEVERITY_COLORS } from "./message.ts";
import type { AlertMessage, Notifier, NotifierInit, NotifierTarget } from "./types.ts";

export const DISCORD_LIMITS = {
  content: 2000,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  username: 80,
} as const;

export interface DiscordEmbed {
  description: string;
  color: number;
  fields: Array<{ name: string; value: string; inline: boolean }>;
  footer: { text: string };
  timestamp: string;
}

export interface DiscordPayload {
  content: string;
  embeds: DiscordEmbed[];
  allowed_mentions: { parse: string[] };
  username?: string;
}

export function discordPayload(message: AlertMessage, target: Pick<NotifierTarget, "username">): DiscordPayload {
  const payload: DiscordPayload = {
    content: truncate(message.title, DISCORD_LIMITS.content),
    embeds: [
      {
        description: truncate(message.text, DISCORD_LIMITS.description),
        color: Number.parseInt(SEVERITY_COLORS[message.severity].slice(1), 16),
        fields: message.fields.slice(0, DISCORD_LIMITS.fields).map((f) => ({
          name: truncate(f.name, DISCORD_LIMITS.fieldName),
          value: truncate(f.value, DISCORD_LIMITS.fieldValue),
          inline: true,
        })),
        footer: { text: `aviary · ${message.reason} · ${message.severity}` },
        timestamp: message.timestamp,
      },
    ],
    allowed_mentions: { parse: [] },
  };
  if (target.username) payload.username = truncate(target.username, DISCORD_LIMITS.username);
  return payload;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function createDiscordNotifier(init: NotifierInit): Notifier {
  return postingNotifier("discord", init, (m) => discordPayload(m, init.target));
}
