// The Lifecycle page: the state (CREATED, PUBLISHED) and one button per lifecycle action.
import { publisher, unwrap } from "../shared/api";
import { Button, ErrorMessage, Section, useAction } from "../shared/ui";
import type { TabProps } from "./api-page";
import { LifecycleBadge } from "./lifecycle-badge";
import type { LifecycleAction } from "./model";

// Every action of the API's enum (a new one fails the type check until it is listed here),
// with the states it starts from, as the publisher's OpenAPI document describes them.
export const ACTIONS: Record<LifecycleAction, { label: string; from: string[]; effect: string }> = {
  publish: {
    label: "Publish",
    from: ["CREATED", "PUBLISHED"],
    effect: "Lists the API in the Developer Portal, where subscribers find it and subscribe. It must be deployed.",
  },
  demote: {
    label: "Demote to Created",
    from: ["PUBLISHED"],
    effect: "Takes the API out of the Developer Portal; existing subscriptions and the deployment keep working.",
  },
};

export function ApiLifecycle({ api, onChange }: TabProps) {
  const action = useAction();
  const run = (name: LifecycleAction) =>
    action.run(async () => {
      await unwrap(
        publisher.POST("/api/publisher/v1/apis/{api_id}/lifecycle", { params: { path: { api_id: api.id } }, body: { action: name } }),
      );
      onChange();
    });
  return (
    <Section title="Lifecycle">
      <p>
        Current state: <LifecycleBadge state={api.lifecycleStatus} />
      </p>
      <ErrorMessage error={action.error} />
      <ul class="actions-list">
        {(Object.keys(ACTIONS) as LifecycleAction[]).map((name) => {
          const { label, from, effect } = ACTIONS[name];
          return (
            <li key={name}>
              <Button kind={name === "publish" ? "primary" : "secondary"} busy={action.busy} disabled={!from.includes(api.lifecycleStatus)} onClick={() => run(name)}>
                {label}
              </Button>{" "}
              <span class="muted">{effect}</span>
            </li>
          );
        })}
      </ul>
    </Section>
  );
}
