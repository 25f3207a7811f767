// The Publisher Portal: the APIs list, the Create AI/LLM API wizard and each API's pages.
import { AccountPage } from "../shared/account";
import { NotFoundPage, startPortal } from "../shared/portal";
import { match } from "../shared/router";
import { ApiPage } from "./api-page";
import { ApisList } from "./apis-list";
import { CreateApi } from "./create-api";

function page(path: string) {
  if (path === "/") return <ApisList />;
  if (path === "/create") return <CreateApi />;
  if (path === "/account") return <AccountPage portal="Publisher Portal" />;
  const tabbed = match("/apis/:id/:tab", path) ?? match("/apis/:id", path);
  if (tabbed?.id) return <ApiPage key={tabbed.id} apiId={tabbed.id} tab={tabbed.tab ?? "overview"} />;
  return <NotFoundPage />;
}

startPortal({
  title: "Publisher Portal",
  base: "/publisher",
  roles: ["publisher", "admin"],
  nav: [
    { label: "APIs", path: "/" },
    { label: "Account", path: "/account" },
  ],
  // admins also run the Admin Portal, on the same origin
  links: (claims) => (claims.roles.includes("admin") ? [{ label: "Admin Portal", path: "/admin" }] : []),
  page,
});
