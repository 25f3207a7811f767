// An application's usage for its developer (GET /applications/{id}/usage): requests and tokens
// over time, by model, by API (named by the report) and by status; then its calls one by one
// (GET /applications/{id}/usage/calls).
import { devportal, unwrap } from "../shared/api";
import { CallsList } from "../shared/calls-list";
import { UsagePanel } from "../shared/usage-panel";

type GroupBy = "model" | "api" | "status";

export function ApplicationUsage({ appId }: { appId: string }) {
  return (
    <>
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
          { groupBy: "api", head: "API" },
          { groupBy: "status", head: "Status" },
        ]}
      />
      <CallsList
        deps={[appId]}
        counterpart={{ head: "API", value: (call) => call.apiName ?? call.apiId }}
        calls={(query) =>
          unwrap(
            devportal.GET("/api/devportal/v1/applications/{app_id}/usage/calls", {
              params: { path: { app_id: appId }, query },
            }),
          )
        }
      />
    </>
  );
}
