/**
 * What Prometheus scrapes in the simulation: one file_sd target file per simulated mesh
 * (written once when it starts; Prometheus picks new files up without a reload), naming the
 * mesh's exporter, which serves the proxy-shaped series and the demo application processes'
 * own metrics labelled with their pods (exposition.ts). Pure except `writeTargetFile`.
 */
import { createHash } from "node:crypto";
import { rename, writeFile } from "node:fs/promises";

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * A pod name as a ReplicaSet would make it, `<deployment>-<template hash>-<pod hash>`, derived
 * from the image, so the built-in matcher `pod=~"<target>-[0-9a-zA-Z]+-[0-9a-zA-Z]+"` selects
 * the canary's process and not `<target>-primary-…`, and a new image is a new pod.
 */
export function simulatedPodName(deployment: string, image: string): string {
  const hash = createHash("sha256").update(`${deployment}\n${image}`).digest("hex");
  return `${deployment}-${hash.slice(0, 10)}-${hash.slice(10, 15)}`;
}

/** The mesh's exporter: no `namespace`/`pod` target labels, its samples carry their own. */
export function meshTargetGroup(address: string, canary: string): TargetGroup {
  return { targets: [address], labels: { component: "simulated-mesh", mesh_canary: canary } };
}

/** A scrape config that reads every target file matching `targetFiles` (a glob) every second. */
export function prometheusConfig(targetFiles: string): string {
  return `# Written by aviary's demo: scrapes the simulated mesh and the demo application processes.
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: simulated-mesh
    honor_labels: true
    file_sd_configs:
      - files: [${JSON.stringify(targetFiles)}]
        refresh_interval: 5s
`;
}

/** Writes the target file atomically (Prometheus never reads half of it). */
export async function writeTargetFile(file: string, groups: readonly TargetGroup[]): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(groups, null, 2) + "\n");
  await rename(tmp, file);
}
