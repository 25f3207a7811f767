// The Policies page: the business plans the API offers subscribers, the backend throttle
// (requests per second to the provider per key type, all applications together), and the
// guardrails and response cache (api-guardrails.tsx), each section saved on its own.
import { useState } from "preact/hooks";
import { publisher, unwrap } from "../shared/api";
import { Button, Checkbox, ErrorMessage, Loaded, Notice, Section, TextField, useAction, useLoad } from "../shared/ui";
import { CacheSection, GuardrailsSection } from "./api-guardrails";
import type { TabProps } from "./api-page";
import { type Api, KEY_TYPES, type KeyType, namesAnyField, patchApi, type Policy, throttleValue } from "./model";

export function ApiPolicies({ api, onChange }: TabProps) {
  const [load] = useLoad(() => unwrap(publisher.GET("/api/publisher/v1/subscription-policies")));
  return (
    <Loaded load={load} label="business plans">
      {(plans) => (
        <>
          <PoliciesForm api={api} plans={plans.list} onChange={onChange} />
          <GuardrailsSection api={api} onChange={onChange} />
          <CacheSection api={api} onChange={onChange} />
        </>
      )}
    </Loaded>
  );
}

function describe(plan: Policy): string {
  if (plan.description) return plan.description;
  if (plan.limits.length === 0) return "no limits";
  return plan.limits
    .map((limit) => {
      const parts = Object.entries(limit)
        .filter(([key, value]) => key !== "unit" && typeof value === "number")
        .map(([key, value]) => `${value} ${key}`);
      return `${parts.join(", ")} a ${limit.unit}`;
    })
    .join("; ");
}

function PoliciesForm({ api, plans, onChange }: { api: Api; plans: Policy[]; onChange: TabProps["onChange"] }) {
  const [offered, setOffered] = useState<string[]>(api.policies);
  const [throttle, setThrottle] = useState<Record<KeyType, string>>({
    production: api.backendThrottle.production?.toString() ?? "",
    sandbox: api.backendThrottle.sandbox?.toString() ?? "",
  });
  const [done, setDone] = useState(false);
  const action = useAction();
  const toggle = (name: string, on: boolean) =>
    setOffered((now) => (on ? [...now.filter((each) => each !== name), name] : now.filter((each) => each !== name)));
  const save = async (event: Event) => {
    event.preventDefault();
    setDone(false);
    const ok = await action.run(async () => {
      await patchApi(api.id, {
        policies: plans.map((plan) => plan.name).filter((name) => offered.includes(name)),
        backendThrottle: { production: throttleValue(throttle.production), sandbox: throttleValue(throttle.sandbox) },
      });
    });
    if (ok) {
      setDone(true);
      onChange();
    }
  };
  const error = action.error;
  return (
    <form onSubmit={save} noValidate>
      <Section title="Business plans">
        <fieldset class="fieldset">
          <legend>Plans offered to subscribers</legend>
          {plans.length === 0 && <p class="muted">No business plans exist; an admin creates them.</p>}
          {plans.map((plan) => (
            <div key={plan.name}>
              <Checkbox label={plan.name} checked={offered.includes(plan.name)} onChecked={(on) => toggle(plan.name, on)} />
              <p class="hint plan-hint">{describe(plan)}</p>
            </div>
          ))}
          {error?.fieldError("policies") && <p class="field-error">{error.fieldError("policies")}</p>}
        </fieldset>
      </Section>
      <Section title="Backend throttle">
        <p class="muted">The most requests per second the gateway sends to the provider, across all applications. Empty: no limit.</p>
        <div class="form">
          {KEY_TYPES.map((keyType) => (
            <TextField
              key={keyType}
              label={`${keyType === "production" ? "Production" : "Sandbox"} requests per second`}
              type="number"
              value={throttle[keyType]}
              onValue={(value) => setThrottle((now) => ({ ...now, [keyType]: value }))}
              error={error?.fieldError(`backendThrottle.${keyType}`)}
            />
          ))}
        </div>
      </Section>
      {!namesAnyField(error, ["policies", "backendThrottle"]) && <ErrorMessage error={error} />}
      {done && <Notice kind="success">Saved. Deploy the API again for the gateway to apply it.</Notice>}
      <div class="actions">
        <Button kind="primary" type="submit" busy={action.busy}>
          Save
        </Button>
      </div>
    </form>
  );
}
