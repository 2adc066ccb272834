/**
 * The one validation entry point per kind, shared by the controller (an invalid Canary
 * gets a condition and an event, and nothing is touched) and the admission webhook
 * (errors deny the request, warnings become admission warnings). Each function returns
 * every problem with its field path and rule, and never throws, whatever it is given.
 */
export { validateCanary, MAX_SERVICE_NAME_LENGTH } from "./validation/canary.ts";
export type { CanaryValidationOptions } from "./validation/canary.ts";
export { validateAlertProvider, validateMetricTemplate, TEMPLATE_VARIABLES } from "./validation/templates.ts";
export type { Severity, ValidationProblem } from "./validation/problems.ts";
export { isSupportedBy, routersSupporting, ROUTER_FEATURES, ROUTER_FEATURE_LABELS, strategyOf } from "./features.ts";
export type { RouterFeature, CanaryStrategy } from "./features.ts";

import type { ValidationProblem } from "./validation/problems.ts";

/** `spec.analysis.stepWeight: must be between 1 and 100` */
export function formatProblem(problem: ValidationProblem): string {
  return problem.path === "" ? problem.rule : `${problem.path}: ${problem.rule}`;
}

/** All problems of one severity, one per line, in the order found. */
export function formatProblems(problems: readonly ValidationProblem[], severity: ValidationProblem["severity"] = "error"): string {
  return problems
    .filter((p) => p.severity === severity)
    .map(formatProblem)
    .join("\n");
}

export const errorsOf = (problems: readonly ValidationProblem[]): ValidationProblem[] => problems.filter((p) => p.severity === "error");
export const warningsOf = (problems: readonly ValidationProblem[]): ValidationProblem[] => problems.filter((p) => p.severity === "warning");
export const hasErrors = (problems: readonly ValidationProblem[]): boolean => problems.some((p) => p.severity === "error");
