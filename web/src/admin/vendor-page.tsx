// One AI vendor: its definition as formatted JSON; a custom one can be edited or deleted
// (409 while an API uses it, shown in the confirmation).
import { publisher, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { navigate } from "../shared/router";
import { Button, ConfirmButton, Loaded, Notice, Section, useLoad } from "../shared/ui";
import { PORTAL, vendorPath } from "./links";
import { pretty } from "./vendor-template";

export function VendorPage({ name, version }: { name: string; version: string }) {
  usePageTitle(`${name} ${version}`, PORTAL);
  const [load] = useLoad(
    () => unwrap(publisher.GET("/api/publisher/v1/ai-vendors/{name}/{version}", { params: { path: { name, version } } })),
    [name, version],
  );
  const remove = async () => {
    await unwrap(publisher.DELETE("/api/publisher/v1/ai-vendors/{name}/{version}", { params: { path: { name, version } } }));
    navigate("/");
  };
  return (
    <>
      <p>
        <Link to="/">← AI Vendors</Link>
      </p>
      <Loaded load={load} label="the AI vendor">
        {(vendor) => {
          const { builtIn, ...definition } = vendor;
          return (
            <>
              <PageHeader title={`${vendor.name} ${vendor.version}`}>
                {!builtIn && (
                  <>
                    <Button kind="primary" onClick={() => navigate(vendorPath(name, version, "/edit"))}>
                      Edit
                    </Button>
                    <ConfirmButton
                      label="Delete vendor"
                      question={`Delete the AI vendor ${vendor.name} ${vendor.version}? APIs can no longer be created on it; one that an API uses cannot be deleted.`}
                      confirmLabel="Delete"
                      onConfirm={remove}
                    />
                  </>
                )}
              </PageHeader>
              {builtIn && <Notice>Built-in vendor: shipped with aigw and read-only.</Notice>}
              {vendor.description && <p>{vendor.description}</p>}
              <Section title="Definition">
                <pre tabIndex={0}>
                  {pretty(definition)}
                </pre>
              </Section>
            </>
          );
        }}
      </Loaded>
    </>
  );
}
