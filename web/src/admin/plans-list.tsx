// Business Plans: the subscription policies (GET /subscription-policies) with their limits.
import type { components } from "../api/generated/publisher";
import { publisher, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { navigate } from "../shared/router";
import { Button, Empty, Loaded, useLoad } from "../shared/ui";
import { PORTAL, planPath } from "./links";

type Limit = components["schemas"]["LimitBody"];

const COUNTER_NAMES: [keyof Omit<Limit, "unit">, string][] = [
  ["requests", "requests"],
  ["totalTokens", "total tokens"],
  ["promptTokens", "prompt tokens"],
  ["completionTokens", "completion tokens"],
];

/** "5000 requests, 100000 total tokens a minute" */
export function describeLimit(limit: Limit): string {
  const counts = COUNTER_NAMES.filter(([key]) => limit[key] != null).map(([key, label]) => `${limit[key]} ${label}`);
  return `${counts.join(", ")} a ${limit.unit}`;
}

export function PlansListPage() {
  usePageTitle("Business Plans", PORTAL);
  const [load] = useLoad(() => unwrap(publisher.GET("/api/publisher/v1/subscription-policies")));
  return (
    <>
      <PageHeader title="Business Plans">
        <Button kind="primary" onClick={() => navigate("/plans/new")}>
          Add business plan
        </Button>
      </PageHeader>
      <p class="muted">
        The plans an API can offer and an application subscribes with. Each limit is a window (minute, hour, day) on requests and
        tokens; a changed plan reaches every gateway within seconds.
      </p>
      <Loaded load={load} label="business plans">
        {(plans) =>
          plans.list.length === 0 ? (
            <Empty title="No business plans" />
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="muted">{plans.count} business plans</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Limits</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {plans.list.map((plan) => (
                    <tr key={plan.name}>
                      <td>
                        <Link to={planPath(plan.name)}>{plan.name}</Link>
                      </td>
                      <td>{plan.limits.length === 0 ? "No limits" : plan.limits.map(describeLimit).join("; ")}</td>
                      <td>{plan.description || "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </>
  );
}
