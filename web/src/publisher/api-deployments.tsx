// The Deployments page: the revision the gateway serves, Deploy (a new revision of the API as
// it is now) and undeploy. The publisher keeps only the served revision; earlier ones are in
// the event stream (aigw.api.deployed), not invented here.
import { publisher, unwrap } from "../shared/api";
import { Button, ConfirmButton, ErrorMessage, formatDate, Notice, Section, useAction } from "../shared/ui";
import type { TabProps } from "./api-page";

export function ApiDeployments({ api, onChange }: TabProps) {
  const action = useAction();
  const path = { params: { path: { api_id: api.id } } };
  const deploy = () =>
    action.run(async () => {
      await unwrap(publisher.POST("/api/publisher/v1/apis/{api_id}/deploy", path));
      onChange();
    });
  const undeploy = async () => {
    await unwrap(publisher.POST("/api/publisher/v1/apis/{api_id}/undeploy", path));
    onChange();
  };
  const current = api.deployedRevision;
  return (
    <Section title="Deployments" actions={<Button kind="primary" busy={action.busy} onClick={deploy}>Deploy</Button>}>
      <p class="muted">
        Deploy sends the API as it is now (endpoints, keys, plans, routing) to the gateway as a new revision; the gateway
        serves it within a second.
      </p>
      <ErrorMessage error={action.error} />
      {current === null ? (
        <Notice kind="info">Not deployed: the gateway does not serve this API.</Notice>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="muted">The revision the gateway serves</caption>
            <thead>
              <tr>
                <th scope="col">Revision</th>
                <th scope="col">Deployed</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <td>Revision {current}</td>
                <td>{formatDate(api.deployedTime)}</td>
                <td>
                  <span class="badge badge-published">Deployed</span>
                </td>
                <td>
                  <ConfirmButton
                    label="Undeploy"
                    question={`Undeploy revision ${current}? The gateway stops serving the API at once.`}
                    onConfirm={undeploy}
                  />
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
