// One application: its subscriptions (Subscribe, change plan, unsubscribe), its Production and
// Sandbox keys, its OAuth2 consumer keys, its usage, and Delete.
import { useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { AuditTrail } from "../shared/audit-trail";
import { navigate } from "../shared/router";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { ConfirmButton, Empty, ErrorMessage, formatDate, Loaded, Section, SelectField, useAction, useLoad } from "../shared/ui";
import { KeySection, loadKeys } from "./application-keys";
import { OAuthSection } from "./application-oauth";
import { loadCatalogue } from "./catalogue";
import { SubscribeForm } from "./subscribe-form";
import type { Application, CatalogApi, Subscription } from "./types";
import { ApplicationUsage } from "./usage";

export function ApplicationPage({ appId }: { appId: string }) {
  const [load] = useLoad(
    () => unwrap(devportal.GET("/api/devportal/v1/applications/{app_id}", { params: { path: { app_id: appId } } })),
    [appId],
  );
  usePageTitle(load.state === "ready" ? load.data.name : "Application", "Developer Portal");
  return (
    <Loaded load={load} label="the application">
      {(app) => <ApplicationView app={app} />}
    </Loaded>
  );
}

function ApplicationView({ app }: { app: Application }) {
  const [keys, reloadKeys] = useLoad(() => loadKeys(app.id), [app.id]);
  const remove = async () => {
    await unwrap(devportal.DELETE("/api/devportal/v1/applications/{app_id}", { params: { path: { app_id: app.id } } }));
    navigate("/applications");
  };
  return (
    <div>
      <PageHeader title={app.name}>
        <ConfirmButton
          label="Delete application"
          confirmLabel="Delete"
          question={`Delete the application ${app.name}? Its subscriptions end and its keys stop working.`}
          onConfirm={remove}
        />
      </PageHeader>
      <p>
        <Link to="/applications">All applications</Link>
      </p>
      <Section title="Overview">
        <dl class="facts">
          <dt>Description</dt>
          <dd>{app.description || "—"}</dd>
          <dt>Owner</dt>
          <dd>{app.owner}</dd>
          <dt>Created</dt>
          <dd>{formatDate(app.createdTime)}</dd>
        </dl>
      </Section>
      <Subscriptions app={app} />
      <Loaded load={keys} label="keys">
        {(list) => (
          <div class="key-sections">
            <KeySection appId={app.id} keyType="PRODUCTION" keys={list} onChange={reloadKeys} />
            <KeySection appId={app.id} keyType="SANDBOX" keys={list} onChange={reloadKeys} />
          </div>
        )}
      </Loaded>
      <OAuthSection appId={app.id} />
      <ApplicationUsage appId={app.id} />
      <AuditTrail title="Activity" of="application" filter={{ applicationId: app.id }} />
    </div>
  );
}

async function loadSubscriptions(appId: string): Promise<{ subscriptions: Subscription[]; apis: CatalogApi[] }> {
  const [subscriptions, apis] = await Promise.all([
    unwrap(devportal.GET("/api/devportal/v1/subscriptions", { params: { query: { applicationId: appId } } })),
    loadCatalogue(),
  ]);
  return { subscriptions: subscriptions.list, apis };
}

function Subscriptions({ app }: { app: Application }) {
  const [load, reload] = useLoad(() => loadSubscriptions(app.id), [app.id]);
  const [apiId, setApiId] = useState("");
  return (
    <Section title="Subscriptions">
      <Loaded load={load} label="subscriptions">
        {({ subscriptions, apis }) => {
          const open = apis.filter((api) => !subscriptions.some((each) => each.apiId === api.id));
          const chosen = open.find((api) => api.id === apiId) ?? open[0];
          return (
            <>
              {subscriptions.length === 0 ? (
                <Empty title="No subscriptions yet">Subscribe to an API to call it with this application's keys.</Empty>
              ) : (
                <div class="table-wrap">
                  <table>
                    <caption class="muted">APIs this application subscribes to</caption>
                    <thead>
                      <tr>
                        <th scope="col">API</th>
                        <th scope="col">Business plan</th>
                        <th scope="col">Since</th>
                        <th scope="col">Actions</th>
                      </tr>
                    </thead>
                    <tbody>
                      {subscriptions.map((subscription) => (
                        <SubscriptionRow
                          key={subscription.id}
                          subscription={subscription}
                          api={apis.find((api) => api.id === subscription.apiId)}
                          onChange={reload}
                        />
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              {open.length > 0 && chosen && (
                <div class="subscribe-more">
                  <h3>Subscribe to an API</h3>
                  <SelectField label="API" value={chosen.id} onValue={setApiId} options={open.map((api) => ({ value: api.id, label: `${api.name} ${api.version}` }))} />
                  <SubscribeForm key={chosen.id} api={chosen} apps={[app]} onAppCreated={reload} onSubscribed={reload} />
                </div>
              )}
            </>
          );
        }}
      </Loaded>
    </Section>
  );
}

function SubscriptionRow({ subscription, api, onChange }: { subscription: Subscription; api: CatalogApi | undefined; onChange: () => void }) {
  const action = useAction();
  const path = { params: { path: { sub_id: subscription.id } } };
  const name = api ? `${api.name} ${api.version}` : subscription.apiId;
  const change = (policy: string) =>
    action.run(async () => {
      await unwrap(devportal.PUT("/api/devportal/v1/subscriptions/{sub_id}", { ...path, body: { policy } }));
      onChange();
    });
  const unsubscribe = async () => {
    await unwrap(devportal.DELETE("/api/devportal/v1/subscriptions/{sub_id}", path));
    onChange();
  };
  const plans = api?.policies ?? [subscription.policy];
  return (
    <tr>
      <td>{api ? <Link to={`/apis/${encodeURIComponent(api.id)}`}>{name}</Link> : name}</td>
      <td>
        <SelectField
          label={`Business plan for ${name}`}
          value={subscription.policy}
          onValue={change}
          options={plans.map((plan) => ({ value: plan, label: plan }))}
        />
        <ErrorMessage error={action.error} />
      </td>
      <td>{formatDate(subscription.createdTime)}</td>
      <td>
        <ConfirmButton label="Unsubscribe" question={`Unsubscribe from ${name}? Calls with this application's keys stop working for it.`} onConfirm={unsubscribe} />
      </td>
    </tr>
  );
}
