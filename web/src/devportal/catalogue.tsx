// The catalogue: the published APIs as cards, with a search over name, vendor and description.
import { useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { Empty, Loaded, TextField, useLoad } from "../shared/ui";
import type { CatalogApi } from "./types";

export async function loadCatalogue(): Promise<CatalogApi[]> {
  return (await unwrap(devportal.GET("/api/devportal/v1/apis"))).list;
}

function matches(api: CatalogApi, query: string): boolean {
  const text = `${api.name} ${api.version} ${api.context} ${api.aiVendor.name} ${api.description}`.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => text.includes(word));
}

export function CataloguePage() {
  const [load] = useLoad(loadCatalogue);
  const [query, setQuery] = useState("");
  usePageTitle("APIs", "Developer Portal");
  return (
    <div>
      <PageHeader title="APIs" />
      <Loaded load={load} label="APIs">
        {(apis) => {
          if (apis.length === 0) {
            return <Empty title="No APIs are published yet">Once a publisher publishes an AI API, it appears here.</Empty>;
          }
          const shown = apis.filter((api) => matches(api, query));
          return (
            <>
              <div class="search">
                <TextField label="Search" type="search" value={query} onValue={setQuery} placeholder="Name, vendor or description" />
              </div>
              {shown.length === 0 ? (
                <Empty title="No API matches your search" />
              ) : (
                <ul class="grid cards" aria-label="Published APIs">
                  {shown.map((api) => (
                    <li key={api.id} class="card api-card">
                      <h2>
                        <Link to={`/apis/${encodeURIComponent(api.id)}`}>{api.name}</Link>
                      </h2>
                      <p class="muted">
                        Version {api.version} · {api.aiVendor.name} {api.aiVendor.version}
                      </p>
                      {api.description && <p>{api.description}</p>}
                    </li>
                  ))}
                </ul>
              )}
            </>
          );
        }}
      </Loaded>
    </div>
  );
}
