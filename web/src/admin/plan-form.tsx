// Create or edit a business plan: name, description, the tokens a request is assumed to use
// when it sets no max_tokens, and up to one limit per window. The API's 422 names the field.
import { useState } from "preact/hooks";
import type { components } from "../api/generated/publisher";
import { publisher, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { navigate } from "../shared/router";
import { Button, ConfirmButton, ErrorMessage, Loaded, Notice, TextField, formatDate, useAction, useLoad } from "../shared/ui";
import { describedFields, fieldMessage, hasUnplacedField } from "../shared/validation";
import { PORTAL, planPath } from "./links";

type Plan = components["schemas"]["PolicyOut"];
type Limit = components["schemas"]["LimitBody"];
type Unit = Limit["unit"];
type Counter = "requests" | "totalTokens" | "promptTokens" | "completionTokens";

const UNITS: [Unit, string][] = [
  ["minute", "Per minute"],
  ["hour", "Per hour"],
  ["day", "Per day"],
];
const COUNTERS: [Counter, string][] = [
  ["requests", "Requests"],
  ["totalTokens", "Total tokens"],
  ["promptTokens", "Prompt tokens"],
  ["completionTokens", "Completion tokens"],
];
const UNLIMITED = "Unlimited";

type LimitText = Record<Counter, string>;
interface PlanText {
  name: string;
  description: string;
  defaultCompletionTokens: string;
  limits: Record<Unit, LimitText>;
}

const blankLimit = (): LimitText => ({ requests: "", totalTokens: "", promptTokens: "", completionTokens: "" });

function toText(plan: Plan | null): PlanText {
  const limits = { minute: blankLimit(), hour: blankLimit(), day: blankLimit() };
  for (const limit of plan?.limits ?? []) {
    for (const [counter] of COUNTERS) limits[limit.unit][counter] = limit[counter] == null ? "" : String(limit[counter]);
  }
  return {
    name: plan?.name ?? "",
    description: plan?.description ?? "",
    defaultCompletionTokens: String(plan?.defaultCompletionTokens ?? 256),
    limits,
  };
}

/** A number as typed ("1e3", "5.5" and "x" go to the API as they are and come back as its 422). */
function count(text: string): number | null {
  return text.trim() === "" ? null : Number(text.trim());
}

/** The request body, with the unit of each sent limit (to place the API's `limits.N` errors). */
function toBody(text: PlanText): { body: components["schemas"]["PolicyIn"]; units: Unit[] } {
  const limits: Limit[] = [];
  const units: Unit[] = [];
  for (const [unit] of UNITS) {
    const typed = text.limits[unit];
    if (COUNTERS.every(([counter]) => typed[counter].trim() === "")) continue;
    const limit: Limit = { unit };
    for (const [counter] of COUNTERS) {
      const value = count(typed[counter]);
      if (value !== null) limit[counter] = value;
    }
    limits.push(limit);
    units.push(unit);
  }
  const body = {
    name: text.name.trim(),
    description: text.description,
    defaultCompletionTokens: count(text.defaultCompletionTokens) ?? 256,
    limits,
  };
  return { body, units };
}

export function NewPlanPage() {
  usePageTitle("Add business plan", PORTAL);
  return (
    <PlanForm
      plan={null}
      save={async (body) => {
        const created = await unwrap(publisher.POST("/api/publisher/v1/subscription-policies", { body }));
        navigate(planPath(created.name));
      }}
    />
  );
}

export function PlanPage({ name }: { name: string }) {
  usePageTitle(name, PORTAL);
  const [load, reload] = useLoad(
    () => unwrap(publisher.GET("/api/publisher/v1/subscription-policies/{name}", { params: { path: { name } } })),
    [name],
  );
  return (
    <Loaded load={load} label="the business plan">
      {(plan) => (
        <PlanForm
          plan={plan}
          save={async ({ name: _name, ...change }) => {
            await unwrap(publisher.PUT("/api/publisher/v1/subscription-policies/{name}", { params: { path: { name } }, body: change }));
            reload();
          }}
        />
      )}
    </Loaded>
  );
}

function PlanForm({ plan, save }: { plan: Plan | null; save: (body: components["schemas"]["PolicyIn"]) => Promise<void> }) {
  const [text, setText] = useState(() => toText(plan));
  const [sentUnits, setSentUnits] = useState<Unit[]>([]);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const builtIn = plan?.name === UNLIMITED;
  const fields = describedFields(action.error);
  const limitError = (unit: Unit, counter: Counter) => {
    const index = sentUnits.indexOf(unit);
    return index < 0 ? undefined : fieldMessage(fields, `limits.${index}.${counter}`) ?? fields[`limits.${index}`];
  };
  const placed = ["name", "description", "defaultCompletionTokens", ...sentUnits.map((_, index) => `limits.${index}`)];
  const nameTaken = !plan && action.error?.status === 409;
  const showAlert = action.error && !nameTaken && (action.error.status !== 422 || hasUnplacedField(fields, placed) || Object.keys(fields).length === 0);

  const setLimit = (unit: Unit, counter: Counter, value: string) =>
    setText((current) => ({ ...current, limits: { ...current.limits, [unit]: { ...current.limits[unit], [counter]: value } } }));
  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    const { body, units } = toBody(text);
    setSentUnits(units);
    if (await action.run(() => save(body))) setSaved(true);
  };
  const remove = async () => {
    if (!plan) return;
    await unwrap(publisher.DELETE("/api/publisher/v1/subscription-policies/{name}", { params: { path: { name: plan.name } } }));
    navigate("/plans");
  };
  return (
    <>
      <p>
        <Link to="/plans">← Business Plans</Link>
      </p>
      <PageHeader title={plan ? plan.name : "Add business plan"}>
        {plan && !builtIn && (
          <ConfirmButton
            label="Delete plan"
            question={`Delete the business plan ${plan.name}? A plan that an API still offers cannot be deleted.`}
            confirmLabel="Delete"
            onConfirm={remove}
          />
        )}
      </PageHeader>
      {plan && (
        <p class="muted">
          Created {formatDate(plan.createdTime)}, last changed {formatDate(plan.updatedTime)}.
        </p>
      )}
      {builtIn && <Notice>The built-in {UNLIMITED} plan is read-only.</Notice>}
      <form class="form form-full" onSubmit={submit} aria-label={plan ? `Edit ${plan.name}` : "Add business plan"} noValidate>
        {!plan && (
          <TextField
            label="Name"
            value={text.name}
            onValue={(name) => setText({ ...text, name })}
            error={fieldMessage(fields, "name") ?? (nameTaken ? action.error?.userMessage : undefined)}
            hint="Letters, digits, _ and -; it cannot be changed later."
            required
          />
        )}
        <TextField
          label="Description"
          value={text.description}
          onValue={(description) => setText({ ...text, description })}
          error={fieldMessage(fields, "description")}
          readOnly={builtIn}
        />
        <TextField
          label="Default completion tokens"
          type="number"
          value={text.defaultCompletionTokens}
          onValue={(defaultCompletionTokens) => setText({ ...text, defaultCompletionTokens })}
          error={fieldMessage(fields, "defaultCompletionTokens")}
          hint="Tokens a request that sets no max_tokens is assumed to produce, for the token limits."
          readOnly={builtIn}
        />
        <div class="limits">
          {UNITS.map(([unit, legend]) => (
            <fieldset key={unit}>
              <legend>{legend}</legend>
              {COUNTERS.map(([counter, label]) => (
                <TextField
                  key={counter}
                  label={label}
                  type="number"
                  value={text.limits[unit][counter]}
                  onValue={(value) => setLimit(unit, counter, value)}
                  error={limitError(unit, counter)}
                  readOnly={builtIn}
                />
              ))}
            </fieldset>
          ))}
        </div>
        <p class="hint">Leave a window empty for no limit in it.</p>
        {showAlert && <ErrorMessage error={action.error} />}
        {saved && <Notice kind="success">Saved.</Notice>}
        {!builtIn && (
          <div class="actions">
            <Button kind="primary" type="submit" busy={action.busy}>
              {plan ? "Save plan" : "Create plan"}
            </Button>
          </div>
        )}
      </form>
    </>
  );
}
