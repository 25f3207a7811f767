// An application's "Activity": its history from the audit trail (publisher's
// GET /api/audit/v1/events?applicationId=...), newest first: what happened to the application,
// its subscriptions, keys and OAuth2 clients, when, and who did it.
import type { components } from "../api/generated/publisher";
import { publisher, unwrap } from "../shared/api";
import { Empty, formatDate, Loaded, Section, useLoad } from "../shared/ui";

const LIMIT = 20;
type AuditPage = components["schemas"]["AuditPage"];

// what each event means, in the portal's words; an unknown type is shown as it is
const LABELS: Record<string, string> = {
  "aigw.application.created": "Application created",
  "aigw.application.deleted": "Application deleted",
  "aigw.subscription.created": "Subscribed",
  "aigw.subscription.updated": "Business plan changed",
  "aigw.subscription.deleted": "Unsubscribed",
  "aigw.key.issued": "API key generated",
  "aigw.key.regenerated": "API key regenerated",
  "aigw.key.revoked": "API key revoked",
  "aigw.oauthclient.created": "Consumer key generated",
  "aigw.oauthclient.revoked": "Consumer secret revoked",
  "aigw.token.revoked": "Access token revoked",
};

async function loadActivity(appId: string) {
  // the route answers NDJSON too (format=ndjson); without it, always a page
  const page = (await unwrap(
    publisher.GET("/api/audit/v1/events", { params: { query: { applicationId: appId, limit: LIMIT } } }),
  )) as AuditPage;
  return page.list;
}

export function ApplicationActivity({ appId }: { appId: string }) {
  const [load] = useLoad(() => loadActivity(appId), [appId]);
  return (
    <Section title="Activity">
      <Loaded load={load} label="activity">
        {(events) =>
          events.length === 0 ? (
            <Empty title="No activity yet" />
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="muted">The latest {LIMIT} changes to this application, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">What</th>
                    <th scope="col">By</th>
                  </tr>
                </thead>
                <tbody>
                  {events.map((event) => (
                    <tr key={event.id}>
                      <td>{formatDate(event.time)}</td>
                      <td title={event.type}>{LABELS[event.type] ?? event.type}</td>
                      <td>{event.actor}</td>
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
