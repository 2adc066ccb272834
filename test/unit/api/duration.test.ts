import assert from "node:assert/strict";
import { formatDuration, InvalidDurationError, parseDuration, tryParseDuration } from "../../../src/api/duration.ts";

describe("durations", () => {
  const valid: Array<[string, number]> = [
    ["500ms", 500],
    ["30s", 30_000],
    ["1m", 60_000],
    ["1h30m", 5_400_000],
    ["1.5m", 90_000],
    ["2h45m30.5s", 9_930_500],
    [".5s", 500],
    ["0", 0],
    ["0s", 0],
    ["1500us", 1.5],
    ["1500µs", 1.5],
    ["2000000ns", 2],
    ["1m1m", 120_000],
    [" 10s ", 10_000],
  ];
  for (const [text, ms] of valid) {
    it(`parses ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
      assert.deepEqual(tryParseDuration(text), { ok: true, ms });
    });
  }

  const invalid: Array<[unknown, string]> = [
    ["", 'must be a duration such as "30s" or "1m", got an empty string'],
    ["10", 'must be a duration such as "30s", "1m" or "1h30m", got "10" (a unit is required: ms, s, m or h)'],
    ["1h 30m", 'must be a duration such as "30s", "1m" or "1h30m", got "1h 30m"'],
    ["10 seconds", 'must be a duration such as "30s", "1m" or "1h30m", got "10 seconds"'],
    ["1d", 'must be a duration such as "30s", "1m" or "1h30m", got "1d"'],
    ["1H", 'must be a duration such as "30s", "1m" or "1h30m", got "1H"'],
    ["m", 'must be a duration such as "30s", "1m" or "1h30m", got "m"'],
    ["-5s", 'must not be negative, got "-5s"'],
    ["1e3s", 'must be a duration such as "30s", "1m" or "1h30m", got "1e3s"'],
    ["99999999999999999999h", 'is too large, got "99999999999999999999h"'],
    [60, 'must be a duration string such as "30s" or "1m", got number'],
    [null, 'must be a duration string such as "30s" or "1m", got object'],
  ];
  for (const [input, error] of invalid) {
    it(`rejects ${JSON.stringify(input)} with a clear message`, () => {
      assert.deepEqual(tryParseDuration(input), { ok: false, error });
      assert.throws(() => parseDuration(input), (err: unknown) => {
        assert.ok(err instanceof InvalidDurationError);
        assert.equal(err.message, `invalid duration: ${error}`);
        assert.equal(err.retryable, false);
        return true;
      });
    });
  }

  it("formats milliseconds the way people write durations", () => {
    const cases: Array<[number, string]> = [
      [0, "0s"],
      [250, "250ms"],
      [1000, "1s"],
      [45_000, "45s"],
      [60_000, "1m"],
      [90_500, "1m30.5s"],
      [5_400_000, "1h30m"],
      [3_600_001, "1h0.001s"],
      [86_400_000, "24h"],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, `${ms}`);
  });

  it("round-trips whole milliseconds", () => {
    for (const ms of [1, 999, 1000, 1001, 59_999, 61_000, 3_599_999, 3_600_000, 123_456_789]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });

  it("refuses to format negative or non-finite values", () => {
    assert.throws(() => formatDuration(-1), RangeError);
    assert.throws(() => formatDuration(Number.NaN), RangeError);
  });
});
