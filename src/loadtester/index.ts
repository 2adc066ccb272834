/**
 * The load tester: traffic for canaries of quiet services, driven by Flagger-style
 * webhooks. `startLoadTester` runs the whole service in-process (the `aviary loadtester`
 * command, a demo, a test); the parsers and bounds are exported for tools that check a
 * Canary's webhook commands ahead of time.
 */
export { startLoadTester } from "./server.ts";
export type { LoadTester, LoadTesterOptions } from "./server.ts";
export { DEFAULT_LIMITS, scheduleWithin } from "./bounds.ts";
export type { LoadLimits, RunSchedule } from "./bounds.ts";
export { parseCommand, taskFromMetadata } from "./command.ts";
export { realClock, virtualClock } from "./clock.ts";
export type { Clock } from "./clock.ts";
export { hostRefusal } from "./targets.ts";
export { mapAddress } from "./address-map.ts";
export type { AddressMap } from "./address-map.ts";
export type { RunReport } from "./runs.ts";
export { CommandRefusedError } from "./tokenize.ts";
