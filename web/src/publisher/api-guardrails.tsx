// The Policies page's Guardrails (a JSON editor for the list, in order, with the API's 422
// field errors next to it) and Response cache (mode, TTL, threshold, scope) sections; each
// saves its own field with a merge patch of the API, applied by the gateways from the next deploy.
import { useState } from "preact/hooks";
import { Button, ErrorMessage, Notice, Section, SelectField, TextArea, TextField, useAction } from "../shared/ui";
import type { TabProps } from "./api-page";
import { type CacheForm, type CacheMode, type CacheScope, cacheForm, cachePatch, fieldErrors, guardrailsDocument, parseGuardrails } from "./guardrails";
import { patchApi } from "./model";

const SAVED = "Saved. Deploy the API again for the gateway to apply it.";
const GUARDRAILS_HINT =
  'A JSON array, applied in order: each {"type", "name", "flow": "request" | "response" | "both", "params"}, e.g. REGEX_GUARDRAIL with {"regex", "invert", "showAssessment"}, WORD_COUNT_GUARDRAIL with {"min", "max"}, PII_MASKING_REGEX with {"piiEntities"}; see the README\'s "Guardrails". [] for none.';

export function GuardrailsSection({ api, onChange }: TabProps) {
  const [text, setText] = useState(guardrailsDocument(api));
  const [syntax, setSyntax] = useState<string | undefined>();
  const [done, setDone] = useState(false);
  const action = useAction();
  const save = async (event: Event) => {
    event.preventDefault();
    setDone(false);
    const parsed = parseGuardrails(text);
    if ("error" in parsed) {
      setSyntax(parsed.error);
      return;
    }
    setSyntax(undefined);
    const ok = await action.run(async () => {
      const updated = await patchApi(api.id, { guardrails: parsed.value });
      setText(guardrailsDocument(updated));
    });
    if (ok) {
      setDone(true);
      onChange();
    }
  };
  const errors = action.error ? fieldErrors(action.error.fields, "guardrails") : [];
  return (
    <Section title="Guardrails">
      <form onSubmit={save} noValidate aria-label="Guardrails">
        <TextArea
          label="Guardrails (JSON)"
          value={text}
          onValue={(value) => {
            setText(value);
            setSyntax(undefined);
          }}
          rows={14}
          error={syntax ?? (errors.length > 0 ? errors.join("\n") : undefined)}
          hint={GUARDRAILS_HINT}
        />
        {errors.length === 0 && <ErrorMessage error={action.error} />}
        {done && <Notice kind="success">{SAVED}</Notice>}
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            Save guardrails
          </Button>
        </div>
      </form>
    </Section>
  );
}

const MODES = [
  { value: "none", label: "None (no cache)" },
  { value: "exact", label: "Exact (the same request)" },
  { value: "semantic", label: "Semantic (a similar last message)" },
];
const SCOPES = [
  { value: "application", label: "Application (answers shared within one application)" },
  { value: "api", label: "API (answers shared by every caller)" },
];

export function CacheSection({ api, onChange }: TabProps) {
  const [form, setForm] = useState<CacheForm>(cacheForm(api.cache));
  const [done, setDone] = useState(false);
  const action = useAction();
  const set = (change: Partial<CacheForm>) => setForm((now) => ({ ...now, ...change }));
  const save = async (event: Event) => {
    event.preventDefault();
    setDone(false);
    const ok = await action.run(async () => {
      const updated = await patchApi(api.id, { cache: cachePatch(form) });
      setForm(cacheForm(updated.cache));
    });
    if (ok) {
      setDone(true);
      onChange();
    }
  };
  const error = action.error;
  const named = error ? fieldErrors(error.fields, "cache") : [];
  const off = form.mode === "none";
  return (
    <Section title="Response cache">
      <form onSubmit={save} noValidate aria-label="Response cache">
        <p class="muted">A hit answers without calling the provider and spends no tokens; answers carry x-aigw-cache: hit, miss or bypass.</p>
        <div class="form">
          <SelectField label="Mode" value={form.mode} options={MODES} onValue={(mode) => set({ mode: mode as CacheMode })} error={error?.fieldError("cache.mode")} />
          {!off && (
            <>
              <TextField
                label="TTL seconds"
                type="number"
                value={form.ttlSeconds}
                onValue={(ttlSeconds) => set({ ttlSeconds })}
                error={error?.fieldError("cache.ttlSeconds")}
                hint="How long a cached answer is served."
              />
              {form.mode === "semantic" && (
                <TextField
                  label="Threshold"
                  type="number"
                  value={form.threshold}
                  onValue={(threshold) => set({ threshold })}
                  error={error?.fieldError("cache.threshold")}
                  hint="Least cosine similarity of the last user message, above 0 and at most 1 (empty: 0.9)."
                />
              )}
              <SelectField label="Scope" value={form.scope} options={SCOPES} onValue={(scope) => set({ scope: scope as CacheScope })} error={error?.fieldError("cache.scope")} />
            </>
          )}
        </div>
        {(named.length === 0 || off) && <ErrorMessage error={error} />}
        {done && <Notice kind="success">{SAVED}</Notice>}
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            Save cache
          </Button>
        </div>
      </form>
    </Section>
  );
}
