// The arithmetic behind the usage charts, free of the DOM so Vitest can check it: time buckets
// (the usage API's UTC hour keys, with the empty hours filled in as zeros), nice axis ticks,
// number and date formatting, and the datetime-local <input> conversions.

export const HOUR_MS = 3_600_000;
/** Bucket widths (hours) a time chart may use; the first that keeps the bars countable wins. */
export const BUCKET_HOURS = [1, 3, 6, 12, 24] as const;
export const MAX_BUCKETS = 200;

export interface Counters {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface HourGroup extends Partial<Counters> {
  key: string; // the hour it started, e.g. "2026-03-01T10:00:00Z"
}

export interface Bucket extends Counters {
  start: Date;
  hours: number;
}

export function zero(): Counters {
  return { requests: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 };
}

function add(into: Counters, from: Partial<Counters>): void {
  into.requests += from.requests ?? 0;
  into.promptTokens += from.promptTokens ?? 0;
  into.completionTokens += from.completionTokens ?? 0;
  into.totalTokens += from.totalTokens ?? 0;
}

export function floorHour(time: Date): Date {
  return new Date(Math.floor(time.getTime() / HOUR_MS) * HOUR_MS);
}

/** The smallest bucket width that keeps [from, to) at MAX_BUCKETS bars or fewer. */
export function bucketHoursFor(from: Date, to: Date): number {
  const hours = Math.max(1, Math.ceil((to.getTime() - floorHour(from).getTime()) / HOUR_MS));
  return BUCKET_HOURS.find((size) => Math.ceil(hours / size) <= MAX_BUCKETS) ?? 24;
}

/**
 * One bucket per `hours` from the hour `from` falls in up to `to` (exclusive), each with the
 * counters of the hour groups inside it; hours without calls count as zero. Groups outside the
 * window, or with a key that is not a time, are left out.
 */
export function timeBuckets(groups: HourGroup[], from: Date, to: Date, hours = bucketHoursFor(from, to)): Bucket[] {
  const first = floorHour(from).getTime();
  const end = to.getTime();
  if (!(end > first)) return [];
  const size = hours * HOUR_MS;
  const buckets: Bucket[] = [];
  for (let start = first; start < end; start += size) buckets.push({ start: new Date(start), hours, ...zero() });
  for (const group of groups) {
    const time = Date.parse(group.key);
    if (Number.isNaN(time) || time < first || time >= end) continue;
    const bucket = buckets[Math.floor((time - first) / size)];
    if (bucket) add(bucket, group);
  }
  return buckets;
}

export function totalOf(rows: Partial<Counters>[]): Counters {
  const total = zero();
  for (const row of rows) add(total, row);
  return total;
}

/** Axis ticks from 0 to a round maximum >= `max`, with steps of 1, 2 or 5 times a power of ten
 * (whole numbers only: the charts count requests and tokens). */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power));
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let tick = 0; tick <= top + step / 2; tick += step) ticks.push(Math.round(tick));
  return ticks;
}

/** Maps [0, domainMax] onto [0, length] (domainMax 0 maps everything to 0). */
export function scale(domainMax: number, length: number): (value: number) => number {
  return (value) => (domainMax > 0 ? (Math.max(0, value) / domainMax) * length : 0);
}

const exactFormat = new Intl.NumberFormat("en-US");

/** 12345 -> "12,345": the numbers in tables and totals, comparable with the API's. */
export function formatExact(value: number): string {
  return exactFormat.format(value);
}

/** 1234 -> "1.2k", 2500000 -> "2.5M": axis labels, where space is short. */
export function formatCompact(value: number): string {
  const abs = Math.abs(value);
  for (const [size, suffix] of [
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ] as const) {
    if (abs >= size) {
      const scaled = value / size;
      const text = Math.abs(scaled) >= 100 ? scaled.toFixed(0) : scaled.toFixed(1).replace(/\.0$/, "");
      return `${text}${suffix}`;
    }
  }
  return String(value);
}

/** Which bars get an x-axis label: about `count` of them, evenly spaced, always the first. */
export function labelIndexes(length: number, count = 5): number[] {
  if (length <= 0) return [];
  const every = Math.max(1, Math.ceil(length / count));
  const indexes: number[] = [];
  for (let i = 0; i < length; i += every) indexes.push(i);
  return indexes;
}

const two = (n: number) => String(n).padStart(2, "0");

/** A Date as a datetime-local input's value, in the browser's time zone ("2026-03-01T10:05"). */
export function toLocalInput(time: Date): string {
  return `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())}T${two(time.getHours())}:${two(time.getMinutes())}`;
}

/** A datetime-local input's value as a Date (local time), or null when it is not one. */
export function fromLocalInput(value: string): Date | null {
  const parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value.trim());
  if (!parts) return null;
  const [year, month, day, hour, minute, second] = parts.slice(1).map((part) => Number(part ?? 0));
  const time = new Date(year ?? 0, (month ?? 1) - 1, day, hour, minute, second);
  // new Date rolls 31 February over into March: refuse instead
  return time.getMonth() === (month ?? 1) - 1 && time.getDate() === day ? time : null;
}

/** A bucket's start for an axis: the time of day, with the date when the window spans days. */
export function bucketLabel(start: Date, spansDays: boolean): string {
  const time = `${two(start.getHours())}:${two(start.getMinutes())}`;
  if (!spansDays) return time;
  return `${start.toLocaleDateString("en-US", { month: "short", day: "numeric" })} ${time}`;
}

/** A bucket as a table row's or a bar's heading: "Mar 1, 10:00 – 11:00". */
export function bucketRange(bucket: { start: Date; hours: number }): string {
  const end = new Date(bucket.start.getTime() + bucket.hours * HOUR_MS);
  const day = bucket.start.toLocaleDateString("en-US", { month: "short", day: "numeric" });
  return `${day}, ${bucketLabel(bucket.start, false)} – ${bucketLabel(end, false)}`;
}

export function spansDays(buckets: { start: Date }[]): boolean {
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  return !!first && !!last && first.start.toDateString() !== last.start.toDateString();
}

/** The sentence a screen reader hears for a time chart (its role="img" label). */
export function describeSeries(title: string, values: { label: string; value: number }[], unit: string): string {
  if (values.length === 0) return `${title}: no data`;
  const total = values.reduce((sum, each) => sum + each.value, 0);
  if (total === 0) return `${title}: no ${unit} in this period`;
  const peak = values.reduce((best, each) => (each.value > best.value ? each : best));
  return `${title}: ${formatExact(total)} ${unit} in ${values.length} periods; the most, ${formatExact(peak.value)}, in ${peak.label}`;
}

/** The sentence for a breakdown chart: its rows, largest first. */
export function describeBreakdown(title: string, rows: { label: string; value: number }[], unit: string): string {
  if (rows.length === 0) return `${title}: no data`;
  const listed = rows.slice(0, 5).map((row) => `${row.label} ${formatExact(row.value)}`);
  const more = rows.length > 5 ? `, and ${rows.length - 5} more` : "";
  return `${title} (${unit}): ${listed.join(", ")}${more}`;
}

/** Long keys (ids) shortened for a chart label; the table shows them whole. */
export function shorten(text: string, max = 40): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
