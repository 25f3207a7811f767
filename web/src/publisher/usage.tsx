// An API's usage for its publisher (GET /apis/{id}/usage): requests and tokens over time, and
// by model and by application.
import { publisher, unwrap } from "../shared/api";
import { UsagePanel } from "../shared/usage-panel";

type GroupBy = "model" | "application";

export function ApiUsage({ apiId }: { apiId: string }) {
  return (
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
      ]}
    />
  );
}
