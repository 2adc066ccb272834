import { ANNOTATION_PROMOTE } from "../../api/types.ts";
import type { Command } from "../command.ts";
import { phaseLabel } from "../progress.ts";
import { runRequest } from "./request.ts";

export const promoteCommand: Command = {
  name: "promote",
  summary: "Approve a held gate, or promote the running revision now",
  args: "<name>",
  minArgs: 1,
  maxArgs: 1,
  description: [
    `Writes the ${ANNOTATION_PROMOTE} annotation on the Canary. The controller then, depending on the phase:`,
    "  Waiting           opens the confirm-rollout gate: the run starts",
    "  Progressing       skips the remaining steps and promotes the canary revision",
    "  WaitingPromotion  opens the confirm-promotion gate and promotes",
    "In any other phase there is nothing to promote and the command fails without writing.",
    "On a terminal it asks for confirmation first, unless --yes is given.",
  ].join("\n"),
  examples: ["aviary promote podinfo", "aviary promote podinfo -n shop --yes"],
  options: [{ name: "yes", short: "y", kind: "boolean", description: "Do not ask for confirmation" }],
  run: (inv) =>
    runRequest(inv, "promote", {
      ...(inv.io.interactive && inv.values.yes !== true
        ? {
            confirm: (c) =>
              `Promote ${c.metadata.namespace}/${c.metadata.name} now (phase ${phaseLabel(c.status?.phase)}, canary at ${c.status?.canaryWeight ?? 0}%)? [y/N] `,
          }
        : {}),
    }),
};
