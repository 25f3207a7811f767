// Subscribe one of the user's applications to an API with one of its plans (POST
// /subscriptions); a user without applications creates one here first.
import { useEffect, useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { Link } from "../shared/portal";
import { Button, ErrorMessage, Notice, SelectField, TextField, useAction } from "../shared/ui";
import type { Application, CatalogApi, Subscription } from "./types";

export async function createApplication(name: string, description = ""): Promise<Application> {
  return unwrap(devportal.POST("/api/devportal/v1/applications", { body: { name, description } }));
}

export async function subscribe(applicationId: string, apiId: string, policy: string): Promise<Subscription> {
  return unwrap(devportal.POST("/api/devportal/v1/subscriptions", { body: { applicationId, apiId, policy } }));
}

/** The plan picker and Subscribe button for one API; `apps` are the user's applications. */
export function SubscribeForm({
  api,
  apps,
  onSubscribed,
  onAppCreated,
}: {
  api: CatalogApi;
  apps: Application[];
  onSubscribed: (subscription: Subscription) => void;
  onAppCreated: () => void;
}) {
  const [appId, setAppId] = useState(apps[0]?.id ?? "");
  const [plan, setPlan] = useState(api.policies[0] ?? "");
  const [newName, setNewName] = useState("");
  const action = useAction();
  useEffect(() => {
    if (!apps.some((app) => app.id === appId)) setAppId(apps[0]?.id ?? "");
  }, [apps, appId]);

  if (apps.length === 0) {
    const create = async (event: Event) => {
      event.preventDefault();
      if (await action.run(async () => void (await createApplication(newName)))) onAppCreated();
    };
    return (
      <form class="form" aria-label="Create Application" onSubmit={create}>
        <p>
          You need an application to subscribe. Create one here, or on the <Link to="/applications">Applications</Link> page.
        </p>
        <TextField label="Application name" value={newName} onValue={setNewName} required error={action.error?.fieldError("name")} />
        <ErrorMessage error={action.error} />
        <div>
          <Button kind="primary" type="submit" busy={action.busy}>
            Create Application
          </Button>
        </div>
      </form>
    );
  }
  const submit = async (event: Event) => {
    event.preventDefault();
    await action.run(async () => onSubscribed(await subscribe(appId, api.id, plan)));
  };
  return (
    <form class="form" aria-label={`Subscribe to ${api.name}`} onSubmit={submit}>
      <SelectField label="Application" value={appId} onValue={setAppId} options={apps.map((app) => ({ value: app.id, label: app.name }))} />
      <SelectField label="Business plan" value={plan} onValue={setPlan} options={api.policies.map((name) => ({ value: name, label: name }))} />
      <ErrorMessage error={action.error} />
      <div>
        <Button kind="primary" type="submit" busy={action.busy}>
          Subscribe
        </Button>
      </div>
    </form>
  );
}

export function SubscribedNotice({ subscription, apps }: { subscription: Subscription; apps: Application[] }) {
  const app = apps.find((each) => each.id === subscription.applicationId);
  return (
    <Notice kind="success">
      Subscribed {app ? <Link to={`/applications/${encodeURIComponent(app.id)}`}>{app.name}</Link> : "the application"} with the plan{" "}
      {subscription.policy}. Generate a key on the application's page.
    </Notice>
  );
}
