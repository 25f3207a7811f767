// An application's OAuth2 consumer keys: generate (the secret shown once), revoke, and the curl
// that trades them for an access token at keymanager's token endpoint.
import { useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { config } from "../shared/config";
import { Button, ConfirmButton, CopyButton, Empty, ErrorMessage, formatDate, Loaded, Section, SelectField, useAction, useLoad } from "../shared/ui";
import { ShownOnce } from "./application-keys";
import { tokenCurl } from "./snippets";
import type { KeyType, OAuthKeys } from "./types";

export function OAuthSection({ appId }: { appId: string }) {
  const path = { params: { path: { app_id: appId } } };
  const [load, reload] = useLoad(async () => (await unwrap(devportal.GET("/api/devportal/v1/applications/{app_id}/oauth-keys", path))).list, [appId]);
  const [keyType, setKeyType] = useState<KeyType>("PRODUCTION");
  const [shown, setShown] = useState<OAuthKeys | null>(null);
  const action = useAction();
  const generate = () =>
    action.run(async () => {
      setShown(await unwrap(devportal.POST("/api/devportal/v1/applications/{app_id}/oauth-keys", { ...path, body: { keyType } })));
      reload();
    });
  const revoke = async (consumerKey: string) => {
    const keyPath = { params: { path: { app_id: appId, consumer_key: consumerKey } } };
    await unwrap(devportal.DELETE("/api/devportal/v1/applications/{app_id}/oauth-keys/{consumer_key}", keyPath));
    if (shown?.consumerKey === consumerKey) setShown(null);
    reload();
  };
  return (
    <Section title="OAuth2 consumer keys">
      <p>Trade a consumer key and secret for short-lived access tokens (client credentials) and call the gateway with a token.</p>
      <div class="inline-form">
        <SelectField
          label="Key type"
          value={keyType}
          onValue={(value) => setKeyType(value as KeyType)}
          options={[
            { value: "PRODUCTION", label: "Production" },
            { value: "SANDBOX", label: "Sandbox" },
          ]}
        />
        <Button kind="primary" onClick={generate} busy={action.busy}>
          Generate consumer key
        </Button>
      </div>
      <ErrorMessage error={action.error} />
      {shown && (
        <>
          <dl class="facts">
            <dt>Consumer key</dt>
            <dd>
              <code aria-label="Consumer key">{shown.consumerKey}</code> <CopyButton text={shown.consumerKey} label="Copy consumer key" />
            </dd>
          </dl>
          <ShownOnce label="Consumer secret" secret={shown.consumerSecret} />
        </>
      )}
      <Loaded load={load} label="consumer keys">
        {(clients) => {
          const live = clients.filter((each) => !each.revoked);
          if (live.length === 0) return <Empty title="No consumer keys" />;
          const curl = tokenCurl(config.keymanager, live[0]?.consumerKey ?? "");
          return (
            <>
              <div class="table-wrap">
                <table>
                  <caption class="muted">Consumer keys</caption>
                  <thead>
                    <tr>
                      <th scope="col">Consumer key</th>
                      <th scope="col">Key type</th>
                      <th scope="col">Created</th>
                      <th scope="col">Actions</th>
                    </tr>
                  </thead>
                  <tbody>
                    {live.map((each) => (
                      <tr key={each.consumerKey}>
                        <td>
                          <code>{each.consumerKey}</code>
                        </td>
                        <td>{each.keyType}</td>
                        <td>{formatDate(each.createdTime)}</td>
                        <td>
                          <ConfirmButton
                            label="Revoke"
                            question={`Revoke the consumer key ${each.consumerKey}? No new tokens, and its tokens stop working.`}
                            onConfirm={() => revoke(each.consumerKey)}
                          />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <div class="snippet">
                <div class="card-head">
                  <h3>Get an access token</h3>
                  <CopyButton text={curl} label="Copy token curl" />
                </div>
                <pre aria-label="Token request" tabIndex={0}>
                  <code>{curl}</code>
                </pre>
              </div>
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}
