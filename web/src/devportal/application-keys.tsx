// An application's API keys of one key type (Production or Sandbox): Generate Key (shown once),
// the existing keys masked with their expiry, Regenerate and Revoke.
import { useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { Button, ConfirmButton, CopyButton, Empty, ErrorMessage, formatDate, Notice, Section, useAction } from "../shared/ui";
import type { KeySummary, KeyType, ShownKey } from "./types";

export async function loadKeys(appId: string): Promise<KeySummary[]> {
  const keys = await unwrap(devportal.GET("/api/devportal/v1/applications/{app_id}/api-keys", { params: { path: { app_id: appId } } }));
  return keys.list as unknown as KeySummary[];
}

export function ShownOnce({ label, secret }: { label: string; secret: string }) {
  return (
    <div class="shown-once">
      <Notice kind="warning">Copy the {label.toLowerCase()} now: it will not be shown again.</Notice>
      <div class="secret">
        <code aria-label={label}>{secret}</code>
        <CopyButton text={secret} label={`Copy ${label.toLowerCase()}`} />
      </div>
    </div>
  );
}

export function KeySection({
  appId,
  keyType,
  keys,
  onChange,
}: {
  appId: string;
  keyType: KeyType;
  keys: KeySummary[];
  onChange: () => void;
}) {
  const [shown, setShown] = useState<ShownKey | null>(null);
  const action = useAction();
  const path = { params: { path: { app_id: appId } } };
  const generate = () =>
    action.run(async () => {
      setShown(await unwrap(devportal.POST("/api/devportal/v1/applications/{app_id}/api-keys", { ...path, body: { keyType } })));
      onChange();
    });
  // the old key stops working at once, so Regenerate asks first, like Revoke; its error shows
  // in its dialog
  const regenerate = async (keyId: string) => {
    const keyPath = { params: { path: { app_id: appId, key_id: keyId } } };
    setShown(await unwrap(devportal.POST("/api/devportal/v1/applications/{app_id}/api-keys/{key_id}/regenerate", keyPath)));
    onChange();
  };
  const revoke = async (keyId: string) => {
    await unwrap(devportal.DELETE("/api/devportal/v1/applications/{app_id}/api-keys/{key_id}", { params: { path: { app_id: appId, key_id: keyId } } }));
    if (shown?.id === keyId) setShown(null);
    onChange();
  };
  const title = keyType === "PRODUCTION" ? "Production" : "Sandbox";
  const live = keys.filter((key) => key.keyType === keyType && !key.revoked);
  return (
    <Section
      title={title}
      actions={
        <Button kind="primary" onClick={generate} busy={action.busy}>
          Generate Key
        </Button>
      }
    >
      <ErrorMessage error={action.error} />
      {shown && <ShownOnce label="API key" secret={shown.apiKey} />}
      {live.length === 0 ? (
        <Empty title={`No ${title.toLowerCase()} keys`}>Generate a key to call the APIs this application subscribes to.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="muted">{title} keys</caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Expires</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {live.map((key) => (
                <tr key={key.id}>
                  <td>
                    <code>{key.maskedKey}</code>
                  </td>
                  <td>{key.expiresAt ? formatDate(key.expiresAt) : "Never"}</td>
                  <td>{formatDate(key.createdTime)}</td>
                  <td class="actions-cell">
                    <ConfirmButton
                      label="Regenerate"
                      question={`Regenerate the key ${key.maskedKey}? The new key is shown once; calls with the old one stop working at once.`}
                      onConfirm={() => regenerate(key.id)}
                    />
                    <ConfirmButton
                      label="Revoke"
                      question={`Revoke the key ${key.maskedKey}? Calls with it stop working at once.`}
                      onConfirm={() => revoke(key.id)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
