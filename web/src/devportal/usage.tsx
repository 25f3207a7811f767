// An application's usage for its developer (GET /applications/{id}/usage): requests and tokens
// over time, and by model and by API (named from the catalogue where the API is still in it).
import { devportal, unwrap } from "../shared/api";
import { UsagePanel } from "../shared/usage-panel";

type GroupBy = "model" | "api";

async function apiNames(): Promise<Record<string, string>> {
  const catalogue = await unwrap(devportal.GET("/api/devportal/v1/apis"));
  return Object.fromEntries(catalogue.list.map((api) => [api.id, `${api.name} ${api.version}`]));
}

export function ApplicationUsage({ appId }: { appId: string }) {
  return (
    <UsagePanel<GroupBy>
      deps={[appId]}
      report={(groupBy, { from, to }) =>
        unwrap(
          devportal.GET("/api/devportal/v1/applications/{app_id}/usage", {
            params: { path: { app_id: appId }, query: { groupBy, from, to } },
          }),
        )
      }
      breakdowns={[
        { groupBy: "model", head: "Model" },
        { groupBy: "api", head: "API", names: apiNames },
      ]}
    />
  );
}
