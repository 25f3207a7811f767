// A part of the audit trail (publisher's GET /api/audit/v1/events), newest first: what happened,
// when, and who did it; "Load more" fetches the older events by the page's cursor. The
// Developer Portal shows an application's ("Activity"), the Publisher Portal an API's
// ("History"), the Admin Portal the whole feed with its filters (admin/activity.tsx); the API
// answers each caller only the events it may see.
import type { ComponentChildren } from "preact";
import type { components } from "../api/generated/publisher";
import { publisher, unwrap } from "./api";
import { LoadMore, useCursorPages } from "./cursor-pages";
import { Empty, formatDate, Loaded, Section } from "./ui";

const LIMIT = 20;
type AuditPage = components["schemas"]["AuditPage"];
/** The trail's filters (GET /api/audit/v1/events): exact, and they combine. */
export interface AuditFilter {
  type?: string;
  subject?: string;
  actor?: string;
  correlationId?: string;
  applicationId?: string;
}

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
  "aigw.vendor.changed": "AI vendor changed",
  "aigw.policy.updated": "Business plan changed",
  "aigw.user.created": "User created",
  "aigw.user.updated": "User changed",
  "aigw.user.deleted": "User deleted",
  "aigw.signingkey.rotated": "Signing key rotated",
};

async function loadTrail(filter: AuditFilter, cursor: string | undefined): Promise<AuditPage> {
  // the route answers NDJSON too (format=ndjson); without it, always a page
  const query = { ...filter, limit: LIMIT, ...(cursor ? { cursor } : {}) };
  return (await unwrap(publisher.GET("/api/audit/v1/events", { params: { query } }))) as AuditPage;
}

/** `of`: what the events are about ("API", "application"), or, without it, the whole feed,
 * which shows each event's subject and correlation id too. `children`: shown above the list
 * (the feed's filters). */
export function AuditTrail({ title, of, filter, children }: { title: string; of?: string; filter: AuditFilter; children?: ComponentChildren }) {
  const pages = useCursorPages((cursor) => loadTrail(filter, cursor), [JSON.stringify(filter)]);
  const feed = of === undefined;
  return (
    <Section title={title}>
      {children}
      <Loaded load={pages.load} label={title.toLowerCase()}>
        {(events) =>
          events.length === 0 ? (
            <Empty title={feed ? "No events found" : `No ${title.toLowerCase()} yet`} />
          ) : (
            <>
              <div class="table-wrap">
                <table>
                  <caption class="muted">{feed ? "Every service's events, newest first" : `Changes to this ${of}, newest first`}</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">What</th>
                      <th scope="col">By</th>
                      {feed && <th scope="col">Subject</th>}
                      {feed && <th scope="col">Correlation ID</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {events.map((event) => (
                      <tr key={event.id}>
                        <td>{formatDate(event.time)}</td>
                        <td title={event.type}>{LABELS[event.type] ?? event.type}</td>
                        <td>{event.actor}</td>
                        {feed && (
                          <td>
                            <code>{event.subject}</code>
                          </td>
                        )}
                        {feed && (
                          <td>
                            <code>{event.correlationid}</code>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <LoadMore pages={pages} />
            </>
          )
        }
      </Loaded>
    </Section>
  );
}
