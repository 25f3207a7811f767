// An API's usage for the publisher (GET /apis/{id}/usage): the last 24 hours by model.
import { publisher, unwrap } from "../shared/api";
import { Empty, Loaded, Section, useLoad } from "../shared/ui";

export function ApiUsage({ apiId }: { apiId: string }) {
  const [load] = useLoad(
    () =>
      unwrap(
        publisher.GET("/api/publisher/v1/apis/{api_id}/usage", {
          params: { path: { api_id: apiId }, query: { groupBy: "model", from: new Date(Date.now() - 86_400_000).toISOString() } },
        }),
      ),
    [apiId],
  );
  return (
    <Section title="Usage">
      <Loaded load={load} label="usage">
        {(report) =>
          report.groups.length === 0 ? (
            <Empty title="No calls yet">Calls through the gateway show up here within seconds.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="muted">Requests and tokens by model, last 24 hours</caption>
                <thead>
                  <tr>
                    <th scope="col">Model</th>
                    <th scope="col">Requests</th>
                    <th scope="col">Total tokens</th>
                  </tr>
                </thead>
                <tbody>
                  {report.groups.map((group) => (
                    <tr key={group.key}>
                      <td>{group.key}</td>
                      <td>{group.requests}</td>
                      <td>{group.totalTokens}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </Section>
  );
}
