// The user's applications, and Create Application.
import { useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { navigate } from "../shared/router";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { Button, Empty, ErrorMessage, formatDate, Loaded, Section, TextField, useAction, useLoad } from "../shared/ui";
import { createApplication } from "./subscribe-form";

export function ApplicationsPage() {
  const [load] = useLoad(async () => (await unwrap(devportal.GET("/api/devportal/v1/applications"))).list);
  const [creating, setCreating] = useState(false);
  usePageTitle("Applications", "Developer Portal");
  return (
    <div>
      <PageHeader title="Applications">
        {!creating && (
          <Button kind="primary" onClick={() => setCreating(true)}>
            Create Application
          </Button>
        )}
      </PageHeader>
      {creating && <CreateApplication onCancel={() => setCreating(false)} />}
      <Loaded load={load} label="applications">
        {(apps) =>
          apps.length === 0 ? (
            <Empty title="No applications yet">An application holds your subscriptions and keys: create one to start.</Empty>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Description</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {apps.map((app) => (
                    <tr key={app.id}>
                      <td>
                        <Link to={`/applications/${encodeURIComponent(app.id)}`}>{app.name}</Link>
                      </td>
                      <td>{app.description || "—"}</td>
                      <td>{formatDate(app.createdTime)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </div>
  );
}

function CreateApplication({ onCancel }: { onCancel: () => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const action = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    await action.run(async () => {
      const app = await createApplication(name, description);
      navigate(`/applications/${encodeURIComponent(app.id)}`);
    });
  };
  return (
    <Section title="Create Application">
      <form class="form" aria-label="Create Application" onSubmit={submit}>
        <TextField label="Name" value={name} onValue={setName} required error={action.error?.fieldError("name")} />
        <TextField label="Description" value={description} onValue={setDescription} error={action.error?.fieldError("description")} />
        <ErrorMessage error={action.error} />
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            Create
          </Button>
          <Button onClick={onCancel}>Cancel</Button>
        </div>
      </form>
    </Section>
  );
}
