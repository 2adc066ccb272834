import { ANNOTATION_ABORT } from "../../api/types.ts";
import type { Command } from "../command.ts";
import { runRequest } from "./request.ts";

export const abortCommand: Command = {
  name: "abort",
  summary: "Roll the running canary back now",
  args: "<name>",
  minArgs: 1,
  maxArgs: 1,
  description: [
    `Writes the ${ANNOTATION_ABORT} annotation on the Canary. The controller routes all traffic back to`,
    "the primary, scales the canary to zero and ends the run as Failed (retry runs it again).",
    "Only a run that is Waiting, Progressing or WaitingPromotion can be aborted.",
  ].join("\n"),
  examples: ["aviary abort podinfo"],
  options: [],
  run: (inv) => runRequest(inv, "abort"),
};
