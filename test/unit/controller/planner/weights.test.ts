import assert from "node:assert/strict";
import { FULL_WEIGHT } from "../../../../src/ground/split.ts";
import { iterationsOf, mirrorsFirstStep, routerShiftsWeights, selectStrategy } from "../../../../src/controller/canary/planner/strategy.ts";
import { isLastStep, maxWeightOf, nextPromotionWeight, nextStepWeight } from "../../../../src/controller/canary/planner/weights.ts";

type WeightFields = Parameters<typeof nextStepWeight>[0];

/** Every weight a run visits, in order: nextStepWeight applied until isLastStep. */
function weightSchedule(analysis: WeightFields): number[] {
  const out: number[] = [];
  for (let w = 0; !isLastStep(analysis, w); ) {
    w = nextStepWeight(analysis, w);
    out.push(w);
  }
  return out;
}

/** The splits a promotion walks through: nextPromotionWeight applied until the canary is at 0. */
function promotionWeights(stepWeightPromotion: number | undefined, fromCanaryWeight: number): { primary: number; canary: number }[] {
  const out: { primary: number; canary: number }[] = [];
  let canary = fromCanaryWeight;
  do {
    canary = nextPromotionWeight(stepWeightPromotion, canary);
    out.push({ primary: FULL_WEIGHT - canary, canary });
  } while (canary > 0);
  return out;
}

describe("canary weights", () => {
  describe("maxWeightOf", () => {
    it("takes the last stepWeights entry over maxWeight (Flagger's precedence)", () => {
      assert.equal(maxWeightOf({ stepWeights: [10, 20, 80], maxWeight: 50 }), 80);
    });
    it("takes maxWeight with stepWeight, and 100 when neither says", () => {
      assert.equal(maxWeightOf({ stepWeight: 10, maxWeight: 50 }), 50);
      assert.equal(maxWeightOf({ stepWeight: 10 }), 100);
      assert.equal(maxWeightOf({}), 100);
    });
    it("treats maxWeight 0 as unset, as Flagger does", () => {
      assert.equal(maxWeightOf({ stepWeight: 10, maxWeight: 0 }), 100);
    });
  });

  describe("nextStepWeight with stepWeight", () => {
    it("adds stepWeight per step up to maxWeight", () => {
      const a = { stepWeight: 20, maxWeight: 60 };
      assert.equal(nextStepWeight(a, 0), 20);
      assert.equal(nextStepWeight(a, 20), 40);
      assert.equal(nextStepWeight(a, 40), 60);
    });
    it("caps the last step at maxWeight when maxWeight is not a multiple of stepWeight", () => {
      assert.deepEqual(weightSchedule({ stepWeight: 20, maxWeight: 50 }), [20, 40, 50]);
      assert.deepEqual(weightSchedule({ stepWeight: 30, maxWeight: 100 }), [30, 60, 90, 100]);
    });
    it("goes straight to maxWeight when stepWeight is larger than maxWeight", () => {
      assert.deepEqual(weightSchedule({ stepWeight: 50, maxWeight: 20 }), [20]);
    });
    it("reaches 100 when maxWeight is 100", () => {
      assert.deepEqual(weightSchedule({ stepWeight: 25, maxWeight: 100 }), [25, 50, 75, 100]);
      assert.deepEqual(weightSchedule({ stepWeight: 100 }), [100]);
    });
    it("never moves a weight already at or above the maximum", () => {
      assert.equal(nextStepWeight({ stepWeight: 20, maxWeight: 60 }, 60), 60);
      // maxWeight lowered mid-run: the weight is not lowered by a step, promotion is next.
      assert.equal(nextStepWeight({ stepWeight: 20, maxWeight: 30 }, 40), 40);
      assert.equal(isLastStep({ stepWeight: 20, maxWeight: 30 }, 40), true);
    });
    it("steps from a weight that is off the grid", () => {
      assert.equal(nextStepWeight({ stepWeight: 20, maxWeight: 60 }, 30), 50);
    });
  });

  describe("nextStepWeight with stepWeights", () => {
    it("moves to the next entry greater than the current weight", () => {
      const a = { stepWeights: [1, 5, 10, 50] };
      assert.deepEqual(weightSchedule(a), [1, 5, 10, 50]);
      assert.equal(nextStepWeight(a, 7), 10);
      assert.equal(nextStepWeight(a, 50), 50);
    });
    it("handles a single entry", () => {
      assert.deepEqual(weightSchedule({ stepWeights: [50] }), [50]);
      assert.equal(isLastStep({ stepWeights: [50] }, 0), false);
      assert.equal(isLastStep({ stepWeights: [50] }, 50), true);
    });
    it("wins over stepWeight", () => {
      assert.deepEqual(weightSchedule({ stepWeights: [10, 30], stepWeight: 5 }), [10, 30]);
    });
    it("ends at 100 when the last entry is 100", () => {
      assert.deepEqual(weightSchedule({ stepWeights: [20, 100] }), [20, 100]);
    });
  });

  it("goes to the maximum in one step when no step is configured, so a run never stalls", () => {
    assert.equal(nextStepWeight({}, 0), 100);
    assert.equal(nextStepWeight({ maxWeight: 40 }, 0), 40);
  });

  it("isLastStep compares with the maximum", () => {
    const a = { stepWeight: 20, maxWeight: 60 };
    assert.equal(isLastStep(a, 0), false);
    assert.equal(isLastStep(a, 40), false);
    assert.equal(isLastStep(a, 60), true);
  });

  describe("promotion", () => {
    it("routes everything back at once without stepWeightPromotion", () => {
      assert.equal(nextPromotionWeight(undefined, 60), 0);
      assert.equal(nextPromotionWeight(0, 60), 0);
      assert.deepEqual(promotionWeights(undefined, 60), [{ primary: 100, canary: 0 }]);
    });
    it("grows the primary's share by stepWeightPromotion", () => {
      assert.deepEqual(promotionWeights(20, 60), [
        { primary: 60, canary: 40 },
        { primary: 80, canary: 20 },
        { primary: 100, canary: 0 },
      ]);
    });
    it("caps the last promotion step at all traffic", () => {
      assert.deepEqual(
        promotionWeights(25, 60).map((w) => w.primary),
        [65, 90, 100],
      );
      assert.equal(nextPromotionWeight(50, 30), 0);
    });
    it("from a canary at 0 is a single step to the primary", () => {
      assert.deepEqual(promotionWeights(10, 0), [{ primary: FULL_WEIGHT, canary: 0 }]);
    });
  });

  describe("strategy", () => {
    it("selects canary, blue-green, ab and mirror", () => {
      assert.equal(selectStrategy({ stepWeight: 10 }), "canary");
      assert.equal(selectStrategy({ stepWeights: [10, 50] }), "canary");
      assert.equal(selectStrategy({ stepWeight: 10, mirror: true }), "canary");
      assert.equal(selectStrategy({ iterations: 5 }), "blue-green");
      assert.equal(selectStrategy({ iterations: 5, match: [{ headers: { x: { exact: "1" } } }] }), "ab");
      assert.equal(selectStrategy({ iterations: 5, mirror: true }), "mirror");
    });
    it("iterations win over weights", () => {
      assert.equal(selectStrategy({ iterations: 3, stepWeight: 10 }), "blue-green");
    });
    it("runs a spec with no strategy as one blue/green check rather than promoting blind", () => {
      assert.equal(selectStrategy(undefined), "blue-green");
      assert.equal(selectStrategy({}), "blue-green");
      assert.equal(iterationsOf(undefined), 1);
      assert.equal(iterationsOf({ iterations: 4 }), 4);
    });
    it("mirrors the first canary step only where the router can mirror", () => {
      assert.equal(mirrorsFirstStep({ stepWeight: 10, mirror: true }, "istio"), true);
      assert.equal(mirrorsFirstStep({ stepWeight: 10, mirror: true }, "smi"), false);
      assert.equal(mirrorsFirstStep({ stepWeight: 10 }, "istio"), false);
    });
    it("knows which routers move weights", () => {
      assert.equal(routerShiftsWeights("kubernetes"), false);
      assert.equal(routerShiftsWeights("gatewayapi"), true);
    });
  });
});
