import { AccountPage } from "../shared/account";
import { NotFoundPage, startPortal } from "../shared/portal";
import { match } from "../shared/router";
import { ActivityPage } from "./activity";
import { PORTAL } from "./links";
import { NewPlanPage, PlanPage } from "./plan-form";
import { PlansListPage } from "./plans-list";
import { SigningKeysPage } from "./signing-keys";
import { UserPage } from "./user-page";
import { UsersListPage } from "./users-list";
import { EditVendorPage, NewVendorPage } from "./vendor-editor";
import { VendorPage } from "./vendor-page";
import { VendorsListPage } from "./vendors-list";

function page(path: string) {
  if (path === "/") return <VendorsListPage />;
  if (path === "/vendors/new") return <NewVendorPage />;
  let params = match("/vendors/:name/:version", path);
  if (params) return <VendorPage name={params.name as string} version={params.version as string} />;
  params = match("/vendors/:name/:version/edit", path);
  if (params) return <EditVendorPage name={params.name as string} version={params.version as string} />;
  if (path === "/plans") return <PlansListPage />;
  if (path === "/plans/new") return <NewPlanPage />;
  params = match("/plans/:name", path);
  if (params) return <PlanPage name={params.name as string} />;
  if (path === "/users") return <UsersListPage />;
  params = match("/users/:username", path);
  if (params) return <UserPage username={params.username as string} />;
  if (path === "/signing-keys") return <SigningKeysPage />;
  if (path === "/activity") return <ActivityPage />;
  if (path === "/account") return <AccountPage portal={PORTAL} />;
  return <NotFoundPage />;
}

startPortal({
  title: PORTAL,
  base: "/admin",
  roles: ["admin"],
  nav: [
    { label: "AI Vendors", path: "/" },
    { label: "Business Plans", path: "/plans" },
    { label: "Users", path: "/users" },
    { label: "Signing Keys", path: "/signing-keys" },
    { label: "Activity", path: "/activity" },
    { label: "Account", path: "/account" },
  ],
  links: () => [{ label: "Publisher Portal", path: "/publisher" }],
  page,
});
