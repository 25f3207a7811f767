// One API's pages under /apis/:id/:tab, with the side menu the seed's Publisher Portal has.
import type { ComponentChildren } from "preact";
import { AuditTrail } from "../shared/audit-trail";
import { follow, NotFoundPage, usePageTitle } from "../shared/portal";
import { href } from "../shared/router";
import { Loaded, useLoad } from "../shared/ui";
import { ApiDeployments } from "./api-deployments";
import { ApiEndpoints } from "./api-endpoints";
import { ApiLifecycle } from "./api-lifecycle";
import { ApiOverview } from "./api-overview";
import { ApiPolicies } from "./api-policies";
import { ApiRouting } from "./api-routing";
import { LifecycleBadge } from "./lifecycle-badge";
import { type Api, apiPath, getApi } from "./model";
import { ApiUsage } from "./usage";

/** What every tab gets: the API as loaded, and a way to show it as a change left it. */
export interface TabProps {
  api: Api;
  onChange: (api?: Api) => void;
}

const TABS: { tab: string; label: string; page: (props: TabProps) => ComponentChildren }[] = [
  { tab: "overview", label: "Overview", page: (props) => <ApiOverview {...props} /> },
  { tab: "endpoints", label: "Endpoints", page: (props) => <ApiEndpoints {...props} /> },
  { tab: "policies", label: "Policies", page: (props) => <ApiPolicies {...props} /> },
  { tab: "routing", label: "Routing", page: (props) => <ApiRouting {...props} /> },
  { tab: "deployments", label: "Deployments", page: (props) => <ApiDeployments {...props} /> },
  { tab: "lifecycle", label: "Lifecycle", page: (props) => <ApiLifecycle {...props} /> },
  { tab: "usage", label: "Usage", page: ({ api }) => <ApiUsage apiId={api.id} /> },
  { tab: "history", label: "History", page: ({ api }) => <AuditTrail title="History" of="API" filter={{ subject: api.id }} /> },
];

export function ApiPage({ apiId, tab }: { apiId: string; tab: string }) {
  const [load, reload] = useLoad(() => getApi(apiId), [apiId]);
  const current = TABS.find((each) => each.tab === tab);
  usePageTitle(current ? `${current.label}${load.state === "ready" ? ` · ${load.data.name}` : ""}` : "Not found", "Publisher Portal");
  if (!current) return <NotFoundPage />;
  return (
    <Loaded load={load} label="the API">
      {(api) => (
        <>
          <div class="page-head">
            <h1>
              {api.name} <span class="muted">{api.version}</span>
            </h1>
            <LifecycleBadge state={api.lifecycleStatus} />
          </div>
          <div class="split">
            <nav aria-label="API" class="side-nav">
              {TABS.map((each) => (
                <a
                  key={each.tab}
                  href={href(apiPath(api, each.tab))}
                  onClick={follow(apiPath(api, each.tab))}
                  aria-current={each.tab === tab ? "page" : undefined}
                >
                  {each.label}
                </a>
              ))}
            </nav>
            <div class="tab-panel">
              {current.page({ api, onChange: () => reload() })}
            </div>
          </div>
        </>
      )}
    </Loaded>
  );
}
