// The calls one by one (GET .../usage/calls), newest first, as both portals show them: an API's
// for its publisher, an application's for its developer. Filters go to the API as they are
// (a status code or class, the outcome, the model, the key type, a request id); "Load more"
// fetches the next, older, page by its cursor.
import { useState } from "preact/hooks";
import type { components } from "../api/generated/publisher";
import { LoadMore, useCursorPages } from "./cursor-pages";
import { Empty, FilterActions, formatDate, Loaded, Section, SelectField, TextField } from "./ui";

export type CallRecord = components["schemas"]["CallRecord"];
export type CallsPage = components["schemas"]["CallsPage"];
type Outcome = CallRecord["outcome"];
type KeyType = CallRecord["keyType"];

/** The query the calls endpoints take (besides the window, which this list leaves open). */
export interface CallFilters {
  requestId?: string;
  status?: string;
  outcome?: Outcome;
  model?: string;
  keyType?: KeyType;
}

export interface CallsQuery extends CallFilters {
  cursor?: string;
  limit?: number;
}

const PAGE = 25;
const STATUS = /^[1-5](\d\d|xx)$/;
const OUTCOMES: { value: "" | Outcome; label: string }[] = [
  { value: "", label: "Any" },
  { value: "served", label: "Served" },
  { value: "refused", label: "Refused" },
  { value: "abandoned", label: "Abandoned" },
  { value: "error", label: "Error" },
];
const KEY_TYPES: { value: "" | KeyType; label: string }[] = [
  { value: "", label: "Any" },
  { value: "PRODUCTION", label: "Production" },
  { value: "SANDBOX", label: "Sandbox" },
];

/** Who made or took the call, as a column: the application (publisher) or the API (developer). */
export interface CounterpartColumn {
  head: "Application" | "API";
  value: (call: CallRecord) => string;
}

export function CallsList({
  calls,
  counterpart,
  deps,
}: {
  calls: (query: CallsQuery) => Promise<CallsPage>;
  counterpart: CounterpartColumn;
  deps: unknown[]; // what identifies the subject (the API's or the application's id)
}) {
  const [filters, setFilters] = useState<CallFilters>({});
  const pages = useCursorPages((cursor) => calls({ ...filters, limit: PAGE, ...(cursor ? { cursor } : {}) }), [...deps, JSON.stringify(filters)]);
  return (
    <Section title="Calls">
      <CallFilterForm onFilters={setFilters} />
      <Loaded load={pages.load} label="calls">
        {(rows) =>
          rows.length === 0 ? (
            <Empty title="No calls found">{Object.keys(filters).length ? "No call matches these filters." : "Calls through the gateway show up here within seconds."}</Empty>
          ) : (
            <>
              <CallsTable rows={rows} counterpart={counterpart} />
              <LoadMore pages={pages} />
            </>
          )
        }
      </Loaded>
    </Section>
  );
}

function CallFilterForm({ onFilters }: { onFilters: (filters: CallFilters) => void }) {
  const [requestId, setRequestId] = useState("");
  const [status, setStatus] = useState("");
  const [outcome, setOutcome] = useState<"" | Outcome>("");
  const [model, setModel] = useState("");
  const [keyType, setKeyType] = useState<"" | KeyType>("");
  const [statusError, setStatusError] = useState<string | undefined>();
  const submit = (event: Event) => {
    event.preventDefault();
    const code = status.trim().toLowerCase();
    if (code && !STATUS.test(code)) {
      setStatusError("Enter a status code like 429 or a class like 4xx.");
      return;
    }
    setStatusError(undefined);
    const filters: CallFilters = {};
    if (requestId.trim()) filters.requestId = requestId.trim();
    if (code) filters.status = code;
    if (outcome) filters.outcome = outcome;
    if (model.trim()) filters.model = model.trim();
    if (keyType) filters.keyType = keyType;
    onFilters(filters);
  };
  const clear = () => {
    setRequestId("");
    setStatus("");
    setOutcome("");
    setModel("");
    setKeyType("");
    setStatusError(undefined);
    onFilters({});
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label="Filter calls">
      <TextField label="Request ID" value={requestId} onValue={setRequestId} />
      <TextField label="Status" value={status} onValue={setStatus} placeholder="429 or 4xx" error={statusError} />
      <SelectField label="Outcome" value={outcome} options={OUTCOMES} onValue={(value) => setOutcome(value as "" | Outcome)} />
      <TextField label="Model" value={model} onValue={setModel} />
      <SelectField label="Key type" value={keyType} options={KEY_TYPES} onValue={(value) => setKeyType(value as "" | KeyType)} />
      <FilterActions onClear={clear} />
    </form>
  );
}

function CallsTable({ rows, counterpart }: { rows: CallRecord[]; counterpart: CounterpartColumn }) {
  return (
    <div class="table-wrap">
      <table class="calls-table">
        <caption class="muted">Calls newest first; tokens marked "estimated" were counted by the gateway because the provider reported none</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Request ID</th>
            <th scope="col">{counterpart.head}</th>
            <th scope="col">Key type</th>
            <th scope="col">Model</th>
            <th scope="col">Status</th>
            <th scope="col">Outcome</th>
            <th scope="col">Tokens</th>
            <th scope="col">Latency</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((call) => (
            <tr key={call.recordId}>
              <td>{formatDate(call.time)}</td>
              <td>{call.requestId ? <code>{call.requestId}</code> : "—"}</td>
              <td>{counterpart.value(call)}</td>
              <td>{call.keyType}</td>
              <td>{call.model}</td>
              <td>{call.status}</td>
              <td>
                <span class={`badge badge-${call.outcome}`}>{call.outcome}</span>
                {call.guardrail ? <span class="muted"> guardrail {call.guardrail}</span> : null}
                {call.cache === "hit" ? <span class="muted"> cache hit</span> : null}
              </td>
              <td>
                {call.totalTokens}
                {call.estimated ? <span class="muted"> (estimated)</span> : null}
              </td>
              <td>{Math.round(call.gatewayLatencyMs + call.providerLatencyMs)} ms</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
