import { NotFoundPage, PageHeader, startPortal } from "../shared/portal";

startPortal({
  title: "Developer Portal",
  base: "/devportal",
  roles: ["subscriber", "admin"],
  nav: [{ label: "APIs", path: "/" }],
  page: (path) => (path === "/" ? <PageHeader title="APIs" /> : <NotFoundPage />),
});
