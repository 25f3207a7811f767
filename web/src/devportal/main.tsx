import { match } from "../shared/router";
import { NotFoundPage, PageHeader, startPortal } from "../shared/portal";
import { ApplicationUsage } from "./usage";

function page(path: string) {
  if (path === "/") return <PageHeader title="APIs" />;
  // minimal route for the usage charts; the application page replaces it
  const application = match("/applications/:id", path);
  if (application?.id)
    return (
      <>
        <PageHeader title="Application" />
        <ApplicationUsage appId={application.id} />
      </>
    );
  return <NotFoundPage />;
}

startPortal({
  title: "Developer Portal",
  base: "/devportal",
  roles: ["subscriber", "admin"],
  nav: [{ label: "APIs", path: "/" }],
  page,
});
