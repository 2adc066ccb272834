import assert from "node:assert/strict";
import { mergeExpositions, withLabels } from "../../../demo/mesh/exposition.ts";

const APP = `# HELP http_requests_total HTTP requests
# TYPE http_requests_total counter
http_requests_total{method="GET",status="200"} 8
http_requests_total{method="GET",status="500"} 2

# HELP http_request_duration_seconds latency
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1"} 3
http_request_duration_seconds_bucket{le="+Inf"} 10
http_request_duration_seconds_sum 4.9
http_request_duration_seconds_count 10
`;

describe("simulated mesh: one exposition for every process", () => {
  it("labels each part's samples with its pod and keeps each family's HELP and TYPE once", () => {
    const merged = mergeExpositions([
      { text: "# HELP istio_requests_total istio\n# TYPE istio_requests_total counter\nistio_requests_total{response_code=\"200\"} 5\n" },
      { text: APP, labels: { namespace: "demo", pod: "shop-abc-def" } },
      { text: APP, labels: { namespace: "demo", pod: "shop-primary-abc-def" } },
    ]);
    assert.equal(merged, `# HELP istio_requests_total istio
# TYPE istio_requests_total counter
istio_requests_total{response_code="200"} 5
# HELP http_requests_total HTTP requests
# TYPE http_requests_total counter
http_requests_total{namespace="demo",pod="shop-abc-def",method="GET",status="200"} 8
http_requests_total{namespace="demo",pod="shop-abc-def",method="GET",status="500"} 2
http_requests_total{namespace="demo",pod="shop-primary-abc-def",method="GET",status="200"} 8
http_requests_total{namespace="demo",pod="shop-primary-abc-def",method="GET",status="500"} 2
# HELP http_request_duration_seconds latency
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{namespace="demo",pod="shop-abc-def",le="0.1"} 3
http_request_duration_seconds_bucket{namespace="demo",pod="shop-abc-def",le="+Inf"} 10
http_request_duration_seconds_sum{namespace="demo",pod="shop-abc-def"} 4.9
http_request_duration_seconds_count{namespace="demo",pod="shop-abc-def"} 10
http_request_duration_seconds_bucket{namespace="demo",pod="shop-primary-abc-def",le="0.1"} 3
http_request_duration_seconds_bucket{namespace="demo",pod="shop-primary-abc-def",le="+Inf"} 10
http_request_duration_seconds_sum{namespace="demo",pod="shop-primary-abc-def"} 4.9
http_request_duration_seconds_count{namespace="demo",pod="shop-primary-abc-def"} 10
`);
  });

  it("adds labels to any sample shape and never overrides one the sample has", () => {
    assert.equal(withLabels("up 1", "up", { pod: "p" }), `up{pod="p"} 1`);
    assert.equal(withLabels("up{} 1", "up", { pod: "p" }), `up{pod="p"} 1`);
    assert.equal(withLabels(`x{pod="own",a="b"} 1`, "x", { pod: "p", ns: "n" }), `x{ns="n",pod="own",a="b"} 1`);
    assert.equal(withLabels("x 1", "x", { v: 'say "hi"\\' }), `x{v="say \\"hi\\"\\\\"} 1`);
    assert.equal(withLabels("x 1", "x", undefined), "x 1");
  });

  it("returns nothing for nothing, and drops families without samples", () => {
    assert.equal(mergeExpositions([]), "");
    assert.equal(mergeExpositions([{ text: "# HELP a x\n# TYPE a counter\n" }]), "");
  });
});
