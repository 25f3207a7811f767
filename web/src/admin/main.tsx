import { NotFoundPage, PageHeader, startPortal } from "../shared/portal";

startPortal({
  title: "Admin Portal",
  base: "/admin",
  roles: ["admin"],
  nav: [{ label: "AI Vendors", path: "/" }],
  page: (path) => (path === "/" ? <PageHeader title="AI Vendors" /> : <NotFoundPage />),
});
