// The Endpoints page: per key type the provider's URL and the provider API key (backend
// security). A saved key only ever comes back masked; the page never holds it after saving.
import { useState } from "preact/hooks";
import { publisher, unwrap } from "../shared/api";
import { Button, ErrorMessage, Loaded, Notice, TextField, useAction, useLoad } from "../shared/ui";
import type { TabProps } from "./api-page";
import { type Api, KEY_TYPES, keyState, type KeyState, type KeyType, patchApi } from "./model";

export function ApiEndpoints({ api, onChange }: TabProps) {
  const [load, reload] = useLoad(
    () =>
      Promise.all([
        unwrap(publisher.GET("/api/publisher/v1/apis/{api_id}/backend-security", { params: { path: { api_id: api.id } } })),
        unwrap(
          publisher.GET("/api/publisher/v1/ai-vendors/{name}/{version}", {
            params: { path: { name: api.aiVendor.name, version: api.aiVendor.version } },
          }),
        ),
      ]),
    [api.id],
  );
  return (
    <Loaded load={load} label="endpoints">
      {([security, vendor]) => (
        <>
          {KEY_TYPES.map((keyType) => (
            <EndpointForm
              key={keyType}
              api={api}
              keyType={keyType}
              state={keyState(security, keyType)}
              needsKey={vendor.auth.type !== "unsecured"}
              onSaved={() => {
                reload();
                onChange();
              }}
            />
          ))}
          {Object.keys(api.additionalEndpoints).length > 0 && (
            <p class="muted">
              Additional endpoints ({Object.keys(api.additionalEndpoints).join(", ")}) are set on the Routing page; their keys
              with PUT /apis/{"{id}"}/backend-security.
            </p>
          )}
        </>
      )}
    </Loaded>
  );
}

const TITLES: Record<KeyType, string> = { production: "Production", sandbox: "Sandbox" };

function EndpointForm({
  api,
  keyType,
  state,
  needsKey,
  onSaved,
}: {
  api: Api;
  keyType: KeyType;
  state: KeyState;
  needsKey: boolean;
  onSaved: () => void;
}) {
  const saved = api.endpoints[keyType] ?? "";
  const [url, setUrl] = useState(saved);
  const [apiKey, setApiKey] = useState("");
  const [done, setDone] = useState(false);
  const action = useAction();
  const error = action.error;
  const save = async (event: Event) => {
    event.preventDefault();
    setDone(false);
    const ok = await action.run(async () => {
      // the URL first: a key is sealed for the origin of the endpoint's URL as it is then
      if (url.trim() !== saved) await patchApi(api.id, { endpoints: { [keyType]: url.trim() || null } });
      if (apiKey) {
        await unwrap(
          publisher.PUT("/api/publisher/v1/apis/{api_id}/backend-security", {
            params: { path: { api_id: api.id } },
            body: { [keyType]: { apiKey } },
          }),
        );
      }
    });
    if (ok) {
      setApiKey("");
      setDone(true);
      onSaved();
    }
  };
  const withoutKey = async () => {
    setDone(false);
    const ok = await action.run(async () => {
      await unwrap(
        publisher.PUT("/api/publisher/v1/apis/{api_id}/backend-security", {
          params: { path: { api_id: api.id } },
          body: { [keyType]: null },
        }),
      );
    });
    if (ok) onSaved();
  };
  const urlError = error?.fieldError(`endpoints.${keyType}`) ?? error?.fields["endpoints"];
  const keyError = error?.fieldError(`${keyType}.apiKey`) ?? error?.fieldError(keyType);
  const placed = urlError !== undefined || keyError !== undefined;
  return (
    <form class="card form-wide" onSubmit={save} noValidate>
      <fieldset class="fieldset">
        <legend>{TITLES[keyType]}</legend>
        {needsKey && saved && state.kind === "missing" && (
          <Notice kind="warning">
            <strong>API Key Required.</strong> Calls to this endpoint need the provider's API key: set it below (deploying
            is refused until it is set).{" "}
            <Button onClick={withoutKey}>Call without a key</Button>
          </Notice>
        )}
        <TextField
          label="Endpoint URL"
          type="url"
          value={url}
          onValue={setUrl}
          error={urlError}
          placeholder="https://api.example.com"
          hint={saved ? undefined : `No ${keyType} endpoint: its key type's calls are refused.`}
        />
        <TextField
          label="API Key"
          type="password"
          value={apiKey}
          onValue={setApiKey}
          error={keyError}
          autoComplete="new-password"
          placeholder={state.kind === "set" ? "Enter a new key to replace the saved one" : "The provider's API key"}
          hint={
            state.kind === "set" ? (
              <>
                Saved key: <code>{state.masked}</code>
              </>
            ) : state.kind === "keyless" ? (
              "Called without a provider key."
            ) : undefined
          }
        />
        {!placed && <ErrorMessage error={error} />}
        {done && <Notice kind="success">Saved.</Notice>}
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            Save
          </Button>
        </div>
      </fieldset>
    </form>
  );
}
