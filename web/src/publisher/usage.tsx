// An API's usage for its publisher (GET /apis/{id}/usage): requests and tokens over time, by
// model, by application (named by the report) and by status; then its calls one by one
// (GET /apis/{id}/usage/calls).
import { publisher, unwrap } from "../shared/api";
import { CallsList } from "../shared/calls-list";
import { UsagePanel } from "../shared/usage-panel";

type GroupBy = "model" | "application" | "status";

export function ApiUsage({ apiId }: { apiId: string }) {
  return (
    <>
      <UsagePanel<GroupBy>
        deps={[apiId]}
        report={(groupBy, { from, to }) =>
          unwrap(
            publisher.GET("/api/publisher/v1/apis/{api_id}/usage", {
              params: { path: { api_id: apiId }, query: { groupBy, from, to } },
            }),
          )
        }
        breakdowns={[
          { groupBy: "model", head: "Model" },
          { groupBy: "application", head: "Application" },
          { groupBy: "status", head: "Status" },
        ]}
      />
      <CallsList
        deps={[apiId]}
        counterpart={{ head: "Application", value: (call) => call.applicationName ?? call.applicationId }}
        calls={(query) =>
          unwrap(
            publisher.GET("/api/publisher/v1/apis/{api_id}/usage/calls", {
              params: { path: { api_id: apiId }, query },
            }),
          )
        }
      />
    </>
  );
}
