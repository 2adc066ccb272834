/**
 * The Flagger-shaped Canary manifests under test/fixtures/flagger/ and what each should
 * come to: the mesh provider to run with, the warnings, or the provider it is rejected for.
 */
import { readFileSync } from "node:fs";
import { parse, parseAllDocuments } from "yaml";

export interface FlaggerFixture {
  file: string;
  meshProvider: string;
  warnings?: string[];
  /** `Kind/name` of the objects the controller creates. */
  objects?: string[];
  /** Set when aviary does not serve the provider: the provider the rejection must name. */
  rejected?: string;
}

const dir = new URL("../fixtures/flagger/", import.meta.url);

export function flaggerFixtures(): FlaggerFixture[] {
  return parse(readFileSync(new URL("index.yaml", dir), "utf8")) as FlaggerFixture[];
}

/** The documents of one fixture file. */
export function fixtureDocuments(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(new URL(file, dir), "utf8")).map((d) => d.toJSON() as Record<string, unknown>).filter((d) => d !== null);
}

/** The fixture's Canary. */
export function fixtureCanary(file: string): { metadata: { name: string }; spec: Record<string, unknown> } & Record<string, unknown> {
  const canary = fixtureDocuments(file).find((d) => d.kind === "Canary");
  if (canary === undefined) throw new Error(`${file} has no Canary`);
  return canary as { metadata: { name: string }; spec: Record<string, unknown> } & Record<string, unknown>;
}
