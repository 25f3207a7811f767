// An API's overview: its facts, where to call it, and delete.
import { publisher, unwrap } from "../shared/api";
import { config } from "../shared/config";
import { navigate } from "../shared/router";
import { ConfirmButton, CopyButton, formatDate, Section } from "../shared/ui";
import type { TabProps } from "./api-page";
import { LifecycleBadge } from "./lifecycle-badge";

export function invocationUrl(routePrefix: string): string {
  return `${config.gateway.replace(/\/$/, "")}/${routePrefix}`;
}

export function ApiOverview({ api }: TabProps) {
  const url = invocationUrl(api.routePrefix);
  const remove = async () => {
    await unwrap(publisher.DELETE("/api/publisher/v1/apis/{api_id}", { params: { path: { api_id: api.id } } }));
    navigate("/", { replace: true });
  };
  return (
    <>
      <Section title="Overview">
        <dl class="facts">
          <dt>Name</dt>
          <dd>{api.name}</dd>
          <dt>Context</dt>
          <dd>
            <code>{api.context}</code>
          </dd>
          <dt>Version</dt>
          <dd>{api.version}</dd>
          <dt>AI Service Provider</dt>
          <dd>
            {api.aiVendor.name} {api.aiVendor.version}
          </dd>
          <dt>Lifecycle state</dt>
          <dd>
            <LifecycleBadge state={api.lifecycleStatus} />
          </dd>
          <dt>Deployed revision</dt>
          <dd>{api.deployedRevision ?? "Not deployed"}</dd>
          <dt>Business plans</dt>
          <dd>{api.policies.join(", ")}</dd>
          {api.description && (
            <>
              <dt>Description</dt>
              <dd>{api.description}</dd>
            </>
          )}
          <dt>Owner</dt>
          <dd>{api.owner ?? "admins"}</dd>
          <dt>Created</dt>
          <dd>{formatDate(api.createdTime)}</dd>
          <dt>Updated</dt>
          <dd>{formatDate(api.updatedTime)}</dd>
        </dl>
      </Section>
      <Section title="Invocation URL">
        <p class="muted">Callers send the provider's paths (e.g. /v1/chat/completions) under this base URL, with their API key.</p>
        <div class="secret">
          <code>{url}</code>
          <CopyButton text={url} label="Copy URL" />
        </div>
      </Section>
      <Section title="Delete API">
        <p class="muted">Deleting the API takes it off the gateway and out of the Developer Portal.</p>
        <ConfirmButton label="Delete API" question={`Delete the API “${api.name}” ${api.version}? This cannot be undone.`} confirmLabel="Delete" onConfirm={remove} />
      </Section>
    </>
  );
}
