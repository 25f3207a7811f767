// One published API: its facts, where to call it (the gateway URL and copy-pasteable snippets),
// Subscribe and Try Out.
import { useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { config } from "../shared/config";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { CopyButton, Loaded, Section, useLoad } from "../shared/ui";
import { invocationUrl, KEY_PLACEHOLDER, snippets } from "./snippets";
import { SubscribedNotice, SubscribeForm } from "./subscribe-form";
import type { Application, CatalogApi, Subscription } from "./types";

export async function loadApi(apiId: string): Promise<CatalogApi> {
  return unwrap(devportal.GET("/api/devportal/v1/apis/{api_id}", { params: { path: { api_id: apiId } } }));
}

export function ApiOverviewPage({ apiId }: { apiId: string }) {
  const [load] = useLoad(() => loadApi(apiId), [apiId]);
  usePageTitle(load.state === "ready" ? load.data.name : "API", "Developer Portal");
  return (
    <Loaded load={load} label="the API">
      {(api) => <ApiOverview api={api} />}
    </Loaded>
  );
}

function ApiOverview({ api }: { api: CatalogApi }) {
  const base = invocationUrl(config.gateway, api.routePrefix);
  const tryOut = `/apis/${encodeURIComponent(api.id)}/try-out`;
  return (
    <div>
      <PageHeader title={api.name}>
        <Link to={tryOut} class="button button-primary">
          Try Out
        </Link>
      </PageHeader>
      <Section title="Overview">
        <dl class="facts">
          <dt>Version</dt>
          <dd>{api.version}</dd>
          <dt>Context</dt>
          <dd>{api.context}</dd>
          <dt>AI Service Provider</dt>
          <dd>
            {api.aiVendor.name} {api.aiVendor.version}
          </dd>
          <dt>Business plans</dt>
          <dd>{api.policies.join(", ")}</dd>
          <dt>Description</dt>
          <dd>{api.description || "—"}</dd>
        </dl>
      </Section>
      <Section title="Invoke">
        <p>Base URL (send your key as Authorization: Bearer {KEY_PLACEHOLDER}):</p>
        <div class="secret">
          <code aria-label="Base URL">{base}</code>
          <CopyButton text={base} label="Copy base URL" />
        </div>
        {snippets(base).map((snippet) => (
          <div key={snippet.label} class="snippet">
            <div class="card-head">
              <h3>{snippet.label}</h3>
              <CopyButton text={snippet.code} label={`Copy ${snippet.label}`} />
            </div>
            <pre aria-label={`${snippet.label} example`} tabIndex={0}>
              <code>{snippet.code}</code>
            </pre>
          </div>
        ))}
      </Section>
      <SubscribeSection api={api} />
    </div>
  );
}

async function loadMine(apiId: string): Promise<{ apps: Application[]; subscriptions: Subscription[] }> {
  const [apps, subscriptions] = await Promise.all([
    unwrap(devportal.GET("/api/devportal/v1/applications")),
    unwrap(devportal.GET("/api/devportal/v1/subscriptions")),
  ]);
  return { apps: apps.list, subscriptions: subscriptions.list.filter((each) => each.apiId === apiId) };
}

function SubscribeSection({ api }: { api: CatalogApi }) {
  const [load, reload] = useLoad(() => loadMine(api.id), [api.id]);
  const [done, setDone] = useState<Subscription | null>(null);
  return (
    <Section title="Subscribe">
      <Loaded load={load} label="your applications">
        {({ apps, subscriptions }) => (
          <>
            {subscriptions.length > 0 && (
              <ul aria-label="Your subscriptions to this API">
                {subscriptions.map((subscription) => {
                  const app = apps.find((each) => each.id === subscription.applicationId);
                  return (
                    <li key={subscription.id}>
                      <Link to={`/applications/${encodeURIComponent(subscription.applicationId)}`}>{app?.name ?? subscription.applicationId}</Link>{" "}
                      — plan {subscription.policy}
                    </li>
                  );
                })}
              </ul>
            )}
            {done && <SubscribedNotice subscription={done} apps={apps} />}
            <SubscribeForm
              api={api}
              apps={apps}
              onAppCreated={reload}
              onSubscribed={(subscription) => {
                setDone(subscription);
                reload();
              }}
            />
          </>
        )}
      </Loaded>
    </Section>
  );
}
