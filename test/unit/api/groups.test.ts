import assert from "node:assert/strict";
import { ConfigError, HELP, parseConfig } from "../../../src/config.ts";
import type { Config } from "../../../src/config.ts";
import { API_GROUPS, apiGroup, DEFAULT_API, groupOf } from "../../../src/api/groups.ts";
import { canaryOwnerReference } from "../../../src/ground/identity.ts";
import type { Canary } from "../../../src/api/types.ts";

const parse = (argv: string[], env: Record<string, string> = {}) => parseConfig(argv, env, "host", 1) as Config;

describe("--api-group", () => {
  it("defaults to aviary.dev; flagger.app from the flag or AVIARY_API_GROUP, the flag winning", () => {
    assert.equal(parse([]).api.apiVersion, "aviary.dev/v1beta1");
    assert.equal(parse(["--api-group", "flagger.app"]).api.apiVersion, "flagger.app/v1beta1");
    assert.equal(parse([], { AVIARY_API_GROUP: "flagger.app" }).api.name, "flagger.app");
    assert.equal(parse(["--api-group=aviary.dev"], { AVIARY_API_GROUP: "flagger.app" }).api.name, "aviary.dev");
  });

  it("refuses any other group, naming the choices", () => {
    assert.throws(() => parse(["--api-group", "flagger.io"]), (err: unknown) =>
      err instanceof ConfigError && err.message === '--api-group: must be one of aviary.dev, flagger.app, got "flagger.io"');
  });

  it("is in --help with its environment variable and choices", () => {
    assert.match(HELP, /--api-group GROUP .*\[AVIARY_API_GROUP\]/s);
    for (const g of API_GROUPS) assert.ok(HELP.includes(g), g);
  });

  it("names every kind in the group, and owner references follow the Canary as it is served", () => {
    const flagger = apiGroup("flagger.app");
    assert.deepEqual([flagger.canary, flagger.metricTemplate, flagger.alertProvider], [
      { apiVersion: "flagger.app/v1beta1", kind: "Canary" },
      { apiVersion: "flagger.app/v1beta1", kind: "MetricTemplate" },
      { apiVersion: "flagger.app/v1beta1", kind: "AlertProvider" },
    ]);
    assert.equal(DEFAULT_API.canary.apiVersion, "aviary.dev/v1beta1");
    assert.equal(groupOf("flagger.app/v1beta1"), "flagger.app");
    assert.equal(groupOf("apps/v1"), undefined);
    const c = { apiVersion: "flagger.app/v1beta1", kind: "Canary", metadata: { name: "podinfo", uid: "u1" }, spec: {} } as unknown as Canary;
    assert.deepEqual(canaryOwnerReference(c), { apiVersion: "flagger.app/v1beta1", kind: "Canary", name: "podinfo", uid: "u1", controller: true, blockOwnerDeletion: true });
  });
});
