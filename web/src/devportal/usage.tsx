// An application's usage for its developer (GET /applications/{id}/usage): the last 24 hours by model.
import { devportal, unwrap } from "../shared/api";
import { Empty, Loaded, Section, useLoad } from "../shared/ui";

export function ApplicationUsage({ appId }: { appId: string }) {
  const [load] = useLoad(
    () =>
      unwrap(
        devportal.GET("/api/devportal/v1/applications/{app_id}/usage", {
          params: { path: { app_id: appId }, query: { groupBy: "model", from: new Date(Date.now() - 86_400_000).toISOString() } },
        }),
      ),
    [appId],
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
