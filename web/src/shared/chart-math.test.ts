import { describe, expect, it } from "vitest";
import {
  bucketHoursFor,
  describeBreakdown,
  describeSeries,
  formatCompact,
  formatExact,
  fromLocalInput,
  labelIndexes,
  niceTicks,
  scale,
  shorten,
  timeBuckets,
  toLocalInput,
  totalOf,
} from "./chart-math";

const at = (iso: string) => new Date(iso);

describe("timeBuckets", () => {
  it("fills the hours without calls with zeros, from the hour 'from' falls in", () => {
    const buckets = timeBuckets(
      [
        { key: "2026-03-01T10:00:00Z", requests: 2, promptTokens: 10, completionTokens: 5, totalTokens: 15 },
        { key: "2026-03-01T12:00:00Z", requests: 1, promptTokens: 1, completionTokens: 1, totalTokens: 2 },
      ],
      at("2026-03-01T09:30:00Z"),
      at("2026-03-01T13:00:00Z"),
    );
    expect(buckets.map((b) => [b.start.toISOString(), b.requests, b.totalTokens])).toEqual([
      ["2026-03-01T09:00:00.000Z", 0, 0],
      ["2026-03-01T10:00:00.000Z", 2, 15],
      ["2026-03-01T11:00:00.000Z", 0, 0],
      ["2026-03-01T12:00:00.000Z", 1, 2],
    ]);
    expect(buckets.every((b) => b.hours === 1)).toBe(true);
  });

  it("sums hours into wider buckets and leaves out groups outside the window or not times", () => {
    const buckets = timeBuckets(
      [
        { key: "2026-03-01T00:00:00Z", requests: 1 },
        { key: "2026-03-01T02:00:00Z", requests: 2 },
        { key: "2026-03-01T03:00:00Z", requests: 4 },
        { key: "2026-03-01T06:00:00Z", requests: 100 }, // 'to' is exclusive
        { key: "2026-02-28T23:00:00Z", requests: 100 },
        { key: "not-a-time", requests: 100 },
      ],
      at("2026-03-01T00:00:00Z"),
      at("2026-03-01T06:00:00Z"),
      3,
    );
    expect(buckets.map((b) => b.requests)).toEqual([3, 4]);
    expect(buckets[1]?.promptTokens).toBe(0);
  });

  it("is empty for an empty or reversed window", () => {
    expect(timeBuckets([], at("2026-03-01T05:00:00Z"), at("2026-03-01T05:00:00Z"))).toEqual([]);
    expect(timeBuckets([], at("2026-03-02T00:00:00Z"), at("2026-03-01T00:00:00Z"))).toEqual([]);
  });
});

describe("bucketHoursFor", () => {
  it("keeps hour buckets up to a week and widens them beyond", () => {
    const from = at("2026-03-01T00:00:00Z");
    const days = (n: number) => new Date(from.getTime() + n * 86_400_000);
    expect(bucketHoursFor(from, days(1))).toBe(1);
    expect(bucketHoursFor(from, days(7))).toBe(1);
    expect(bucketHoursFor(from, days(30))).toBe(6);
    expect(bucketHoursFor(from, days(365))).toBe(24);
  });
});

describe("totalOf", () => {
  it("adds every counter, missing ones as zero", () => {
    expect(totalOf([{ requests: 1, totalTokens: 3 }, { requests: 2, promptTokens: 4 }])).toEqual({
      requests: 3,
      promptTokens: 4,
      completionTokens: 0,
      totalTokens: 3,
    });
  });
});

describe("niceTicks", () => {
  it("ends on a round number at or above the maximum", () => {
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(100)).toEqual([0, 50, 100]);
    expect(niceTicks(1234)).toEqual([0, 500, 1000, 1500]);
  });

  it("counts in whole steps for small numbers and has an axis for no data", () => {
    expect(niceTicks(1)).toEqual([0, 1]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });

  it("has steps of 1, 2 or 5 times a power of ten", () => {
    for (const max of [9, 42, 999, 123_456, 7_654_321]) {
      const ticks = niceTicks(max);
      const step = (ticks[1] ?? 0) - (ticks[0] ?? 0);
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 5]).toContain(mantissa);
      expect(ticks.at(-1)).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeLessThanOrEqual(6);
    }
  });
});

describe("scale", () => {
  it("maps the domain onto the length, and everything to 0 without data", () => {
    expect(scale(10, 200)(5)).toBe(100);
    expect(scale(10, 200)(-1)).toBe(0);
    expect(scale(0, 200)(5)).toBe(0);
  });
});

describe("number formatting", () => {
  it("writes exact numbers with separators", () => {
    expect(formatExact(1234567)).toBe("1,234,567");
    expect(formatExact(0)).toBe("0");
  });

  it("shortens axis numbers", () => {
    expect(formatCompact(999)).toBe("999");
    expect(formatCompact(1000)).toBe("1k");
    expect(formatCompact(1250)).toBe("1.3k");
    expect(formatCompact(2_500_000)).toBe("2.5M");
    expect(formatCompact(150_000)).toBe("150k");
  });
});

describe("labelIndexes", () => {
  it("picks about the asked number of evenly spaced labels, always the first", () => {
    expect(labelIndexes(24, 4)).toEqual([0, 6, 12, 18]);
    expect(labelIndexes(3, 5)).toEqual([0, 1, 2]);
    expect(labelIndexes(0)).toEqual([]);
  });
});

describe("datetime-local values", () => {
  it("round-trips a local time to the minute", () => {
    const time = new Date(2026, 2, 1, 9, 5);
    expect(toLocalInput(time)).toBe("2026-03-01T09:05");
    expect(fromLocalInput("2026-03-01T09:05")?.getTime()).toBe(time.getTime());
    expect(fromLocalInput("2026-03-01T09:05:30")?.getSeconds()).toBe(30);
  });

  it("refuses what is not a date and time", () => {
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("yesterday")).toBeNull();
    expect(fromLocalInput("2026-02-31T10:00")).toBeNull();
  });
});

describe("descriptions for screen readers", () => {
  it("summarises a series by its total and its peak", () => {
    const text = describeSeries("Requests per hour", [
      { label: "10:00", value: 2 },
      { label: "11:00", value: 5 },
    ], "requests");
    expect(text).toBe("Requests per hour: 7 requests in 2 periods; the most, 5, in 11:00");
    expect(describeSeries("Requests", [{ label: "10:00", value: 0 }], "requests")).toBe("Requests: no requests in this period");
  });

  it("lists the largest rows of a breakdown", () => {
    const rows = Array.from({ length: 7 }, (_, i) => ({ label: `m${i}`, value: 7 - i }));
    expect(describeBreakdown("By model", rows, "requests")).toBe(
      "By model (requests): m0 7, m1 6, m2 5, m3 4, m4 3, and 2 more",
    );
  });

  it("shortens long labels", () => {
    expect(shorten("abc", 5)).toBe("abc");
    expect(shorten("abcdefgh", 5)).toBe("abcd…");
  });
});
