import { NotFoundPage, PageHeader, startPortal } from "../shared/portal";

startPortal({
  title: "Publisher Portal",
  base: "/publisher",
  roles: ["publisher", "admin"],
  nav: [{ label: "APIs", path: "/" }],
  page: (path) => (path === "/" ? <PageHeader title="APIs" /> : <NotFoundPage />),
});
