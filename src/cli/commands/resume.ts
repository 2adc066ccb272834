import { ANNOTATION_PAUSED } from "../../api/types.ts";
import type { Command } from "../command.ts";
import { runRequest } from "./request.ts";

export const resumeCommand: Command = {
  name: "resume",
  summary: "Let a paused canary continue",
  args: "<name>",
  minArgs: 1,
  maxArgs: 1,
  description: `Removes ${ANNOTATION_PAUSED} from the Canary; the run continues from the step where it held.`,
  examples: ["aviary resume podinfo"],
  options: [],
  run: (inv) => runRequest(inv, "resume"),
};
