import { ANNOTATION_PAUSED } from "../../api/types.ts";
import type { Command } from "../command.ts";
import { runRequest } from "./request.ts";

export const pauseCommand: Command = {
  name: "pause",
  summary: "Hold the canary at its current step",
  args: "<name>",
  minArgs: 1,
  maxArgs: 1,
  description: [
    `Sets ${ANNOTATION_PAUSED}=true on the Canary. A running canary stays at its current weight and`,
    "no further checks run; a new revision waits before its analysis starts. promote and abort",
    "still work while paused. `aviary resume` removes the annotation.",
  ].join("\n"),
  examples: ["aviary pause podinfo"],
  options: [],
  run: (inv) => runRequest(inv, "pause"),
};
