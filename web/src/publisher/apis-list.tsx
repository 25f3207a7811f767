// The APIs list: every API the publisher may manage, searchable by name and context.
import { publisher, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { navigate } from "../shared/router";
import { Button, Empty, Loaded, TextField, useLoad } from "../shared/ui";
import { useState } from "preact/hooks";
import { LifecycleBadge } from "./lifecycle-badge";
import { type Api, apiPath } from "./model";

export function ApisList() {
  usePageTitle("APIs", "Publisher Portal");
  const [load] = useLoad(() => unwrap(publisher.GET("/api/publisher/v1/apis")));
  const [search, setSearch] = useState("");
  return (
    <>
      <PageHeader title="APIs">
        <Button kind="primary" onClick={() => navigate("/create")}>
          Create AI/LLM API
        </Button>
      </PageHeader>
      <Loaded load={load} label="APIs">
        {(apis) =>
          apis.list.length === 0 ? (
            <Empty title="No APIs yet">
              <p>Create an AI/LLM API to put an AI provider behind the gateway.</p>
            </Empty>
          ) : (
            <>
              <div class="toolbar">
                <TextField label="Search" type="search" value={search} onValue={setSearch} placeholder="Name or context" />
              </div>
              <ApisTable apis={filtered(apis.list, search)} />
            </>
          )
        }
      </Loaded>
    </>
  );
}

function filtered(apis: Api[], search: string): Api[] {
  const needle = search.trim().toLowerCase();
  if (!needle) return apis;
  return apis.filter((api) => api.name.toLowerCase().includes(needle) || api.context.toLowerCase().includes(needle));
}

function ApisTable({ apis }: { apis: Api[] }) {
  if (apis.length === 0) return <Empty title="No API matches the search" />;
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">
          {apis.length} {apis.length === 1 ? "API" : "APIs"}
        </caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Context</th>
            <th scope="col">Version</th>
            <th scope="col">AI Service Provider</th>
            <th scope="col">Lifecycle state</th>
          </tr>
        </thead>
        <tbody>
          {apis.map((api) => (
            <tr key={api.id}>
              <td>
                <Link to={apiPath(api)}>{api.name}</Link>
              </td>
              <td>
                <code>{api.context}</code>
              </td>
              <td>{api.version}</td>
              <td>
                {api.aiVendor.name} {api.aiVendor.version}
              </td>
              <td>
                <LifecycleBadge state={api.lifecycleStatus} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
