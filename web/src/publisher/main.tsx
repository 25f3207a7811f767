import { match } from "../shared/router";
import { NotFoundPage, PageHeader, startPortal } from "../shared/portal";
import { ApiUsage } from "./usage";

function page(path: string) {
  if (path === "/") return <PageHeader title="APIs" />;
  // minimal route for the usage charts; the API pages (with their Usage tab) replace it
  const usage = match("/apis/:id/usage", path);
  if (usage?.id)
    return (
      <>
        <PageHeader title="API usage" />
        <ApiUsage apiId={usage.id} />
      </>
    );
  return <NotFoundPage />;
}

startPortal({
  title: "Publisher Portal",
  base: "/publisher",
  roles: ["publisher", "admin"],
  nav: [{ label: "APIs", path: "/" }],
  page,
});
