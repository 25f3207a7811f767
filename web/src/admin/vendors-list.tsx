// AI Vendors: every vendor publisher knows (GET /ai-vendors), built-ins first and read-only.
import { publisher, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { navigate } from "../shared/router";
import { Button, Empty, Loaded, useLoad } from "../shared/ui";
import { PORTAL, vendorPath } from "./links";

export function VendorsListPage() {
  usePageTitle("AI Vendors", PORTAL);
  const [load] = useLoad(() => unwrap(publisher.GET("/api/publisher/v1/ai-vendors")));
  return (
    <>
      <PageHeader title="AI Vendors">
        <Button kind="primary" onClick={() => navigate("/vendors/new")}>
          Add AI vendor
        </Button>
      </PageHeader>
      <p class="muted">
        A vendor is a definition: how the provider key is sent, which calls the gateway forwards and where it finds what it meters.
        Built-in vendors are read-only; custom ones can be changed until an API uses them.
      </p>
      <Loaded load={load} label="AI vendors">
        {(vendors) =>
          vendors.list.length === 0 ? (
            <Empty title="No AI vendors" />
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="muted">{vendors.count} AI vendors</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Version</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Description</th>
                  </tr>
                </thead>
                <tbody>
                  {vendors.list.map((vendor) => (
                    <tr key={`${vendor.name}/${vendor.version}`}>
                      <td>
                        <Link to={vendorPath(vendor.name, vendor.version)}>{vendor.name}</Link>
                      </td>
                      <td>{vendor.version}</td>
                      <td>
                        {vendor.builtIn ? <span class="badge">Built-in</span> : <span class="badge badge-published">Custom</span>}
                      </td>
                      <td>{vendor.description || "—"}</td>
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
