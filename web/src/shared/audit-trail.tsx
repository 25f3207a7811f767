// A part of the audit trail (publisher's GET /api/audit/v1/events), newest first: what happened,
// when, and who did it. The Developer Portal shows an application's ("Activity"), the Publisher
// Portal an API's ("History"); the API answers each caller only the events it may see.
import type { components } from "../api/generated/publisher";
import { publisher, unwrap } from "./api";
import { Empty, formatDate, Loaded, Section, useLoad } from "./ui";

const LIMIT = 20;
type AuditPage = components["schemas"]["AuditPage"];
type AuditFilter = { applicationId: string } | { subject: string };

// what each event means, in the portals' words; an unknown type is shown as it is
const LABELS: Record<string, string> = {
  "aigw.api.created": "API created",
  "aigw.api.updated": "API changed",
  "aigw.api.deployed": "Revision deployed",
  "aigw.api.undeployed": "Undeployed",
  "aigw.api.published": "Published",
  "aigw.api.deleted": "API deleted",
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

async function loadTrail(filter: AuditFilter) {
  // the route answers NDJSON too (format=ndjson); without it, always a page
  const page = (await unwrap(
    publisher.GET("/api/audit/v1/events", { params: { query: { ...filter, limit: LIMIT } } }),
  )) as AuditPage;
  return page.list;
}

export function AuditTrail({ title, of, filter }: { title: string; of: string; filter: AuditFilter }) {
  const [load] = useLoad(() => loadTrail(filter), [JSON.stringify(filter)]);
  return (
    <Section title={title}>
      <Loaded load={load} label={title.toLowerCase()}>
        {(events) =>
          events.length === 0 ? (
            <Empty title={`No ${title.toLowerCase()} yet`} />
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="muted">
                  The latest {LIMIT} changes to this {of}, newest first
                </caption>
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
