// The usage panel both portals show (an API's usage for its publisher, an application's for its
// developer): a From/To picker, the totals (what became of the calls: served, refused,
// abandoned, errors; how many were estimated), requests and tokens over time (the API's hour
// groups) and a breakdown per model, application, API or status. Every number comes from the
// usage endpoint; the charts only lay them out (and fill hours without calls with zeros).
import { useState } from "preact/hooks";
import { BreakdownChart, TimeChart } from "./charts";
import { type Counters, type HourGroup, bucketHoursFor, formatExact, fromLocalInput, timeBuckets, toLocalInput } from "./chart-math";
import { Button, Empty, ErrorMessage, Loading, Section, TextField, useLoad } from "./ui";

const DAY_MS = 86_400_000;

/** What the response cache and the guardrails did (the usage report's other counters). */
export interface CacheAndGuardrailCounters {
  cacheHits: number;
  cacheMisses: number;
  tokensSaved: number;
  guardrailInterventions: number;
}

/** What became of the calls (each counts in one), and how many had their tokens estimated. */
export interface OutcomeCounters {
  served: number;
  refused: number;
  abandoned: number;
  errors: number;
  estimated: number;
}

/** A group as the report answers it: an API's or application's carries its name. */
export interface NamedGroup extends HourGroup {
  name?: string | null;
}

export interface UsageReportLike {
  from: string;
  to: string;
  totals: Partial<Counters> & Partial<CacheAndGuardrailCounters> & Partial<OutcomeCounters>;
  groups: NamedGroup[];
}

/** One breakdown: the usage endpoint's groupBy value and what a row is (the report names the
 * groups of APIs and applications itself). */
export interface Breakdown<G extends string> {
  groupBy: G;
  head: string; // "Model", "Application", "API", "Status"
}

interface Range {
  from: Date;
  to: Date;
}

function lastDays(days: number): Range {
  const to = new Date();
  return { from: new Date(to.getTime() - days * DAY_MS), to };
}

export function UsagePanel<G extends string>({
  report,
  breakdowns,
  deps,
}: {
  report: (groupBy: G | "hour", range: { from: string; to: string }) => Promise<UsageReportLike>;
  breakdowns: Breakdown<G>[];
  deps: unknown[]; // what identifies the subject (the API's or the application's id)
}) {
  const [range, setRange] = useState<Range>(() => lastDays(1));
  const [load] = useLoad(async () => {
    const window = { from: range.from.toISOString(), to: range.to.toISOString() };
    const [hours, ...groups] = await Promise.all([
      report("hour", window),
      ...breakdowns.map((breakdown) => report(breakdown.groupBy, window)),
    ]);
    return { hours, groups };
  }, [...deps, range.from.getTime(), range.to.getTime()]);

  return (
    <Section title="Usage">
      <RangePicker range={range} onRange={setRange} />
      {load.state === "loading" && <Loading label="Loading usage" />}
      {load.state === "failed" && <ErrorMessage error={load.error} />}
      {load.state === "ready" && (
        <UsageView
          range={range}
          hours={load.data.hours}
          breakdowns={breakdowns.map((breakdown, i) => ({
            head: breakdown.head,
            groups: load.data.groups[i]?.groups ?? [],
          }))}
        />
      )}
    </Section>
  );
}

function RangePicker({ range, onRange }: { range: Range; onRange: (range: Range) => void }) {
  const [from, setFrom] = useState(toLocalInput(range.from));
  const [to, setTo] = useState(toLocalInput(range.to));
  const [errors, setErrors] = useState<{ from?: string; to?: string }>({});
  const pick = (next: Range) => {
    setFrom(toLocalInput(next.from));
    setTo(toLocalInput(next.to));
    setErrors({});
    onRange(next);
  };
  const submit = (event: Event) => {
    event.preventDefault();
    const start = fromLocalInput(from);
    const end = fromLocalInput(to);
    const found: { from?: string; to?: string } = {};
    if (!start) found.from = "Enter a date and time.";
    if (!end) found.to = "Enter a date and time.";
    else if (start && start >= end) found.to = "'To' must be later than 'From'.";
    setErrors(found);
    if (start && end && !found.from && !found.to) onRange({ from: start, to: end });
  };
  return (
    <form class="usage-range" onSubmit={submit} aria-label="Period">
      <TextField label="From" type="datetime-local" value={from} onValue={setFrom} error={errors.from} />
      <TextField label="To" type="datetime-local" value={to} onValue={setTo} error={errors.to} />
      <div class="actions">
        <Button type="submit" kind="primary">
          Show
        </Button>
        <Button onClick={() => pick(lastDays(1))}>Last 24 hours</Button>
        <Button onClick={() => pick(lastDays(7))}>Last 7 days</Button>
      </div>
    </form>
  );
}

function UsageView({
  range,
  hours,
  breakdowns,
}: {
  range: Range;
  hours: UsageReportLike;
  breakdowns: { head: string; groups: NamedGroup[] }[];
}) {
  const totals = { requests: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0, ...hours.totals };
  // the window the API answered for (it may round or default what was asked)
  const from = new Date(hours.from);
  const to = new Date(hours.to);
  const span = Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) ? range : { from, to };
  const buckets = timeBuckets(hours.groups, span.from, span.to);
  const size = bucketHoursFor(span.from, span.to);
  const per = size === 1 ? "per hour" : size === 24 ? "per day" : `per ${size} hours`;
  return (
    <>
      <ul class="usage-totals" aria-label="Totals">
        <Stat value={totals.requests} label="requests" />
        <Stat value={totals.promptTokens} label="prompt tokens" />
        <Stat value={totals.completionTokens} label="completion tokens" />
        <Stat value={totals.totalTokens} label="total tokens" />
      </ul>
      {totals.requests ? (
        <ul class="usage-totals" aria-label="Outcomes">
          <Stat value={totals.served ?? 0} label="served" />
          <Stat value={totals.refused ?? 0} label="refused" />
          <Stat value={totals.abandoned ?? 0} label="abandoned" />
          <Stat value={totals.errors ?? 0} label="errors" />
          <Stat value={totals.estimated ?? 0} label="estimated" />
        </ul>
      ) : null}
      {(totals.cacheHits || totals.cacheMisses || totals.guardrailInterventions) ? (
        <ul class="usage-totals" aria-label="Cache and guardrails">
          <Stat value={totals.cacheHits ?? 0} label="cache hits" />
          <Stat value={totals.cacheMisses ?? 0} label="cache misses" />
          <Stat value={totals.tokensSaved ?? 0} label="tokens saved" />
          <Stat value={totals.guardrailInterventions ?? 0} label="guardrail interventions" />
        </ul>
      ) : null}
      {totals.requests === 0 ? (
        <Empty title="No calls in this period">Calls through the gateway show up here within seconds; pick a longer period to look further back.</Empty>
      ) : (
        <div class="usage-charts">
          <TimeChart title={`Requests ${per}`} unit="requests" buckets={buckets} series={[{ name: "Requests", values: buckets.map((b) => b.requests) }]} />
          <TimeChart
            title={`Tokens ${per}`}
            unit="tokens"
            buckets={buckets}
            series={[
              { name: "Prompt tokens", values: buckets.map((b) => b.promptTokens) },
              { name: "Completion tokens", values: buckets.map((b) => b.completionTokens) },
            ]}
          />
          {breakdowns.map((breakdown) => {
            // without a name (an API or application no longer known), the id the records carry
            const labels = breakdown.groups.map((group) => group.name ?? group.key);
            const by = breakdown.head === "API" ? "API" : breakdown.head.toLowerCase();
            return (
              <div class="usage-breakdowns" key={breakdown.head}>
                <BreakdownChart
                  title={`Requests by ${by}`}
                  unit="requests"
                  head={breakdown.head}
                  labels={labels}
                  series={[{ name: "Requests", values: breakdown.groups.map((g) => g.requests ?? 0) }]}
                />
                <BreakdownChart
                  title={`Tokens by ${by}`}
                  unit="tokens"
                  head={breakdown.head}
                  labels={labels}
                  series={[
                    { name: "Prompt tokens", values: breakdown.groups.map((g) => g.promptTokens ?? 0) },
                    { name: "Completion tokens", values: breakdown.groups.map((g) => g.completionTokens ?? 0) },
                  ]}
                />
              </div>
            );
          })}
        </div>
      )}
    </>
  );
}

function Stat({ value, label }: { value: number; label: string }) {
  return (
    <li>
      <span class="usage-stat">{formatExact(value)}</span> {label}
    </li>
  );
}
