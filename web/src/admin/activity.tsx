// Activity: the audit trail of every service (GET /api/audit/v1/events, all of it for an admin),
// newest first, filtered by event type, actor, subject (an API, application or key id: its
// whole history) or correlation id (everything one request caused), paged with "Load more".
// The table and the paging are the shared audit trail's (shared/audit-trail.tsx).
import { useState } from "preact/hooks";
import { type AuditFilter, AuditTrail } from "../shared/audit-trail";
import { PageHeader, usePageTitle } from "../shared/portal";
import { FilterActions, TextField } from "../shared/ui";
import { PORTAL } from "./links";

export function ActivityPage() {
  usePageTitle("Activity", PORTAL);
  const [filter, setFilter] = useState<AuditFilter>({});
  return (
    <>
      <PageHeader title="Activity" />
      <AuditTrail title="Events" filter={filter}>
        <FeedFilters onFilter={setFilter} />
      </AuditTrail>
    </>
  );
}

function FeedFilters({ onFilter }: { onFilter: (filter: AuditFilter) => void }) {
  const [type, setType] = useState("");
  const [actor, setActor] = useState("");
  const [subject, setSubject] = useState("");
  const [correlationId, setCorrelationId] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    const filter: AuditFilter = {};
    if (type.trim()) filter.type = type.trim();
    if (actor.trim()) filter.actor = actor.trim();
    if (subject.trim()) filter.subject = subject.trim();
    if (correlationId.trim()) filter.correlationId = correlationId.trim();
    onFilter(filter);
  };
  const clear = () => {
    setType("");
    setActor("");
    setSubject("");
    setCorrelationId("");
    onFilter({});
  };
  return (
    <form class="inline-form" onSubmit={submit} aria-label="Filter events">
      <TextField label="Event type" value={type} onValue={setType} placeholder="aigw.api.deployed" />
      <TextField label="Actor" value={actor} onValue={setActor} />
      <TextField label="Subject" value={subject} onValue={setSubject} hint="An API, application or key id" />
      <TextField label="Correlation ID" value={correlationId} onValue={setCorrelationId} />
      <FilterActions onClear={clear} />
    </form>
  );
}
