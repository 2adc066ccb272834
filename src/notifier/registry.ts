/**
 * The explicit table of notifiers by AlertProvider type. An unknown type throws
 * rather than falling back silently. Built once in main.ts; tests build their own.
 */
import { createDiscordNotifier } from "./discord.ts";
import { createTeamsNotifier } from "./msteams.ts";
import { createSlackNotifier } from "./slack.ts";
import { DEFAULT_NOTIFIER_TIMEOUT_MS, UnknownAlertProviderError } from "./types.ts";
import type { Notifier, NotifierInit } from "./types.ts";
import { createWebhookNotifier } from "./webhook.ts";

export type NotifierFactory = (init: NotifierInit) => Notifier;

export interface NotifierRegistry {
  /** The notifier for an AlertProvider's `spec.type`; throws UnknownAlertProviderError for an unknown type. */
  create(type: string, init: NotifierInit): Notifier;
  has(type: string): boolean;
  /** Registered types, sorted. */
  types(): string[];
}

export interface NotifierRegistryOptions {
  /** Per-POST timeout for notifiers whose init sets none (default 5s). */
  timeoutMs?: number;
}

/** Every notifier aviary ships: slack, msteams, discord, webhook. */
export function createNotifierRegistry(opts: NotifierRegistryOptions = {}): NotifierRegistry {
  return notifierRegistryOf(
    {
      slack: createSlackNotifier,
      msteams: createTeamsNotifier,
      discord: createDiscordNotifier,
      webhook: createWebhookNotifier,
    },
    opts,
  );
}

/** A registry over the given factories (tests, embedding). */
export function notifierRegistryOf(
  factories: Readonly<Record<string, NotifierFactory>>,
  opts: NotifierRegistryOptions = {},
): NotifierRegistry {
  const table = new Map(Object.entries(factories));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_NOTIFIER_TIMEOUT_MS;
  const types = () => [...table.keys()].sort();
  return {
    create(type, init) {
      const factory = table.get(type);
      if (factory === undefined) throw new UnknownAlertProviderError(type, types());
      return factory({ ...init, timeoutMs: init.timeoutMs ?? timeoutMs });
    },
    has: (type) => table.has(type),
    types,
  };
}
