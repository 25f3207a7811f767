// Small SVG charts without a charting library: stacked bars over time and horizontal bars for a
// breakdown. Each is a <figure> named by its caption; the SVG is one image (role="img") whose
// label says what it shows, and the numbers are also a real table under "Show data". The SVG is
// drawn at the width it is given (measured), so text stays readable from phone to desktop.
import type { RefObject } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import {
  bucketLabel,
  bucketRange,
  describeBreakdown,
  describeSeries,
  formatCompact,
  formatExact,
  labelIndexes,
  niceTicks,
  scale,
  shorten,
  spansDays,
} from "./chart-math";
import "./charts.css";

/** One stacked layer of a chart: its name (legend, table column) and a value per bar or row. */
export interface Series {
  name: string;
  values: number[];
}

const FONT = 12;

/** The element's content width, followed as it changes (a phone turned, a window resized). */
function useWidth(fallback = 600): [RefObject<HTMLDivElement>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(200, Math.floor(element.clientWidth)));
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

function sums(series: Series[], length: number): number[] {
  return Array.from({ length }, (_, i) => series.reduce((sum, each) => sum + (each.values[i] ?? 0), 0));
}

function Legend({ series }: { series: Series[] }) {
  if (series.length < 2) return null;
  return (
    <ul class="chart-legend" aria-hidden="true">
      {series.map((each, i) => (
        <li key={each.name}>
          <span class={`chart-swatch series-${i}`} />
          {each.name}
        </li>
      ))}
    </ul>
  );
}

/** The chart's numbers as a table, folded away under "Show data". */
function DataTable({
  caption,
  head,
  series,
  labels,
  skipEmpty = false,
}: {
  caption: string;
  head: string;
  series: Series[];
  labels: string[];
  skipEmpty?: boolean;
}) {
  const totals = sums(series, labels.length);
  const rows = labels.map((label, i) => ({ label, i })).filter(({ i }) => !skipEmpty || (totals[i] ?? 0) > 0);
  const withTotal = series.length > 1;
  return (
    <details class="chart-data">
      <summary>Show data</summary>
      <div class="table-wrap">
        <table>
          <caption class="muted">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{head}</th>
              {series.map((each) => (
                <th scope="col" key={each.name}>
                  {each.name}
                </th>
              ))}
              {withTotal && <th scope="col">Total</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map(({ label, i }) => (
              <tr key={i}>
                <th scope="row">{label}</th>
                {series.map((each) => (
                  <td key={each.name}>{formatExact(each.values[i] ?? 0)}</td>
                ))}
                {withTotal && <td>{formatExact(totals[i] ?? 0)}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

/**
 * Stacked bars, one per time bucket. `buckets` are the bars' start times and widths in hours;
 * each series has one value per bucket. The table lists the buckets that have any value.
 */
export function TimeChart({
  title,
  unit,
  buckets,
  series,
}: {
  title: string;
  unit: string;
  buckets: { start: Date; hours: number }[];
  series: Series[];
}) {
  const [ref, width] = useWidth();
  const totals = sums(series, buckets.length);
  const ticks = niceTicks(Math.max(0, ...totals));
  const top = ticks[ticks.length - 1] ?? 1;
  const height = 200;
  const margin = { top: 10, right: 8, bottom: 24, left: 8 + 7 * Math.max(...ticks.map((t) => formatCompact(t).length)) };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const y = scale(top, plotHeight);
  const band = buckets.length > 0 ? plotWidth / buckets.length : plotWidth;
  const barWidth = Math.max(1, band > 4 ? band * 0.8 : band - 0.5);
  const days = spansDays(buckets);
  const ranges = buckets.map(bucketRange);
  const labelWidth = days ? 90 : 44;
  const labelled = labelIndexes(buckets.length, Math.max(2, Math.floor(plotWidth / labelWidth)));
  const label = describeSeries(
    title,
    ranges.map((range, i) => ({ label: range, value: totals[i] ?? 0 })),
    unit,
  );
  return (
    <figure class="chart">
      <figcaption class="chart-title">{title}</figcaption>
      <Legend series={series} />
      <div ref={ref} class="chart-canvas">
        <svg role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`} width="100%" height={height} class="chart-svg">
          <g transform={`translate(${margin.left},${margin.top})`}>
            {ticks.map((tick) => (
              <g key={tick} transform={`translate(0,${plotHeight - y(tick)})`}>
                <line x1={0} x2={plotWidth} class="chart-grid" />
                <text x={-6} dy="0.32em" text-anchor="end" class="chart-axis" font-size={FONT}>
                  {formatCompact(tick)}
                </text>
              </g>
            ))}
            {buckets.map((bucket, i) => {
              let base = plotHeight;
              return (
                <g key={bucket.start.getTime()}>
                  <title>{`${ranges[i]}: ${series.map((each) => `${formatExact(each.values[i] ?? 0)} ${each.name.toLowerCase()}`).join(", ")}`}</title>
                  {series.map((each, s) => {
                    const h = y(each.values[i] ?? 0);
                    base -= h;
                    return h > 0 ? <rect key={each.name} x={i * band} y={base} width={barWidth} height={h} class={`series-${s}`} /> : null;
                  })}
                </g>
              );
            })}
            <line x1={0} x2={plotWidth} y1={plotHeight} y2={plotHeight} class="chart-baseline" />
            {labelled.map((i) => {
              const text = buckets[i] ? bucketLabel(buckets[i].start, days) : "";
              // a label that would run past the plot ends at its edge instead
              const overflows = i * band + text.length * 7 > plotWidth + margin.right;
              return (
                <text
                  key={i}
                  x={overflows ? plotWidth : i * band}
                  y={plotHeight + 16}
                  text-anchor={overflows ? "end" : "start"}
                  class="chart-axis"
                  font-size={FONT}
                >
                  {text}
                </text>
              );
            })}
          </g>
        </svg>
      </div>
      <DataTable caption={`${title} (periods without calls left out)`} head="Time" series={series} labels={ranges} skipEmpty />
    </figure>
  );
}

/** Horizontal stacked bars, one per row (a model, an application, an API), largest first. */
export function BreakdownChart({
  title,
  unit,
  head,
  labels,
  series,
}: {
  title: string;
  unit: string;
  head: string; // what a row is: "Model", "API"...
  labels: string[];
  series: Series[];
}) {
  const [ref, width] = useWidth();
  const totals = sums(series, labels.length);
  const order = labels.map((_, i) => i).sort((a, b) => (totals[b] ?? 0) - (totals[a] ?? 0));
  const valueWidth = 64;
  const barLength = scale(Math.max(0, ...totals), width - valueWidth);
  const rowHeight = 40;
  const height = Math.max(1, order.length) * rowHeight;
  const maxChars = Math.max(12, Math.floor(width / 7));
  const label = describeBreakdown(
    title,
    order.map((i) => ({ label: labels[i] ?? "", value: totals[i] ?? 0 })),
    unit,
  );
  return (
    <figure class="chart">
      <figcaption class="chart-title">{title}</figcaption>
      <Legend series={series} />
      <div ref={ref} class="chart-canvas">
        <svg role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`} width="100%" height={height} class="chart-svg">
          {order.map((i, row) => {
            let start = 0;
            return (
              <g key={i} transform={`translate(0,${row * rowHeight})`}>
                <title>{`${labels[i]}: ${series.map((each) => `${formatExact(each.values[i] ?? 0)} ${each.name.toLowerCase()}`).join(", ")}`}</title>
                <text x={0} y={FONT + 2} class="chart-label" font-size={FONT}>
                  {shorten(labels[i] ?? "", maxChars)}
                </text>
                {series.map((each, s) => {
                  const length = barLength(each.values[i] ?? 0);
                  const x = start;
                  start += length;
                  return length > 0 ? <rect key={each.name} x={x} y={FONT + 7} width={Math.max(1, length)} height={14} class={`series-${s}`} /> : null;
                })}
                <text x={start + 6} y={FONT + 18} class="chart-axis" font-size={FONT}>
                  {formatCompact(totals[i] ?? 0)}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
      <DataTable caption={title} head={head} series={series} labels={labels} />
    </figure>
  );
}
