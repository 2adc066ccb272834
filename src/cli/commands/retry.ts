import { ANNOTATION_RETRY } from "../../api/types.ts";
import type { Command } from "../command.ts";
import { runRequest } from "./request.ts";

export const retryCommand: Command = {
  name: "retry",
  summary: "Run the failed revision's analysis again",
  args: "<name>",
  minArgs: 1,
  maxArgs: 1,
  description: [
    `Writes the ${ANNOTATION_RETRY} annotation (the current time) on a Failed Canary. The controller starts`,
    "a new run of the same revision from the first step, without a change to the Deployment.",
  ].join("\n"),
  examples: ["aviary retry podinfo", "aviary retry podinfo && aviary status podinfo -w"],
  options: [],
  run: (inv) => runRequest(inv, "retry"),
};
