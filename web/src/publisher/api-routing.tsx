// The Routing page: multi-model routing per key type (weighted targets, fallbacks, per-target
// timeout, suspension) and the additional endpoints it may route to, shown readably and edited
// as JSON (a merge patch of the API: the API's own validation errors come back by path).
import { useState } from "preact/hooks";
import { Button, ErrorMessage, Notice, Section, TextArea, useAction } from "../shared/ui";
import type { TabProps } from "./api-page";
import { type Api, KEY_TYPES, patchApi, type RoutingPolicy } from "./model";

export function routingDocument(api: Api): string {
  return JSON.stringify({ additionalEndpoints: api.additionalEndpoints, routing: api.routing }, null, 2);
}

export function ApiRouting({ api, onChange }: TabProps) {
  return (
    <>
      <Section title="Routing">
        {KEY_TYPES.map((keyType) => (
          <PolicyView key={keyType} title={keyType === "production" ? "Production" : "Sandbox"} policy={api.routing[keyType] ?? null} />
        ))}
        <h3>Additional endpoints</h3>
        {Object.keys(api.additionalEndpoints).length === 0 ? (
          <p class="muted">None: routing targets can be production or sandbox (each for its own key type).</p>
        ) : (
          <dl class="facts">
            {Object.entries(api.additionalEndpoints).map(([name, url]) => (
              <>
                <dt key={`${name}-name`}>{name}</dt>
                <dd key={`${name}-url`}>
                  <code>{url}</code>
                </dd>
              </>
            ))}
          </dl>
        )}
      </Section>
      <RoutingEditor api={api} onChange={onChange} />
    </>
  );
}

function Targets({ caption, targets, weights }: { caption: string; targets: RoutingPolicy["targets"]; weights: boolean }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Endpoint</th>
            <th scope="col">Model</th>
            {weights && <th scope="col">Weight</th>}
          </tr>
        </thead>
        <tbody>
          {targets.map((target, index) => (
            <tr key={index}>
              <td>{target.endpoint}</td>
              <td>{target.model ?? "the caller's"}</td>
              {weights && <td>{target.weight ?? 1}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PolicyView({ title, policy }: { title: string; policy: RoutingPolicy | null }) {
  return (
    <>
      <h3>{title}</h3>
      {policy === null ? (
        <p class="muted">No routing policy: {title.toLowerCase()} calls go to the {title.toLowerCase()} endpoint.</p>
      ) : (
        <>
          <Targets caption={`${title} targets (weighted round robin)`} targets={policy.targets} weights />
          {(policy.fallbacks ?? []).length > 0 ? (
            <Targets caption={`${title} fallbacks, in order`} targets={policy.fallbacks ?? []} weights={false} />
          ) : (
            <p class="muted">No fallbacks.</p>
          )}
          <dl class="facts">
            <dt>Timeout</dt>
            <dd>{policy.timeoutSeconds ? `${policy.timeoutSeconds} s per target` : "the gateway's upstream timeout"}</dd>
            <dt>Suspension</dt>
            <dd>{policy.suspendSeconds ?? 30} s after a failure</dd>
          </dl>
        </>
      )}
    </>
  );
}

function RoutingEditor({ api, onChange }: TabProps) {
  const [text, setText] = useState(routingDocument(api));
  const [parseError, setParseError] = useState<string | undefined>();
  const [done, setDone] = useState(false);
  const action = useAction();
  const save = async (event: Event) => {
    event.preventDefault();
    setDone(false);
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch (cause) {
      setParseError(`Not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
      return;
    }
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
      setParseError("Send a JSON object, e.g. {\"routing\": {...}}");
      return;
    }
    setParseError(undefined);
    const ok = await action.run(async () => {
      const updated = await patchApi(api.id, patch as Record<string, unknown>);
      setText(routingDocument(updated));
    });
    if (ok) {
      setDone(true);
      onChange();
    }
  };
  const fields = action.error ? Object.entries(action.error.fields) : [];
  return (
    <Section title="Edit routing">
      <form onSubmit={save} noValidate>
        <TextArea
          label="Routing (JSON)"
          value={text}
          onValue={setText}
          rows={16}
          error={parseError ?? (fields.length > 0 ? fields.map(([path, message]) => `${path}: ${message}`).join("\n") : undefined)}
          hint='A JSON merge patch of the API: objects merge, arrays replace, null removes (e.g. "routing": {"production": null}).'
        />
        {fields.length === 0 && <ErrorMessage error={action.error} />}
        {done && <Notice kind="success">Saved. Deploy the API again for the gateway to apply it.</Notice>}
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            Save routing
          </Button>
        </div>
      </form>
    </Section>
  );
}
