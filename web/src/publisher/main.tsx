// The Publisher Portal: the APIs list, the Create AI/LLM API wizard and each API's pages.
import { NotFoundPage, startPortal } from "../shared/portal";
import { match } from "../shared/router";
import { ApiPage } from "./api-page";
import { ApisList } from "./apis-list";
import { CreateApi } from "./create-api";

function page(path: string) {
  if (path === "/") return <ApisList />;
  if (path === "/create") return <CreateApi />;
  const tabbed = match("/apis/:id/:tab", path) ?? match("/apis/:id", path);
  if (tabbed?.id) return <ApiPage key={tabbed.id} apiId={tabbed.id} tab={tabbed.tab ?? "overview"} />;
  return <NotFoundPage />;
}

startPortal({
  title: "Publisher Portal",
  base: "/publisher",
  roles: ["publisher", "admin"],
  nav: [{ label: "APIs", path: "/" }],
  page,
});
