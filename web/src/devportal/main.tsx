import { AccountPage } from "../shared/account";
import { Link, NotFoundPage, startPortal } from "../shared/portal";
import { match } from "../shared/router";
import { ApiOverviewPage } from "./api-overview";
import { ApplicationPage } from "./application";
import { ApplicationsPage } from "./applications-list";
import { CataloguePage } from "./catalogue";
import { SignUpPage } from "./signup";
import { TryOutPage } from "./try-out";

function page(path: string) {
  if (path === "/") return <CataloguePage />;
  const api = match("/apis/:id", path);
  if (api) return <ApiOverviewPage key={api.id} apiId={api.id as string} />;
  const tryOut = match("/apis/:id/try-out", path);
  if (tryOut) return <TryOutPage key={tryOut.id} apiId={tryOut.id as string} />;
  if (path === "/applications") return <ApplicationsPage />;
  if (path === "/account") return <AccountPage portal="Developer Portal" />;
  const app = match("/applications/:id", path);
  if (app) return <ApplicationPage key={app.id} appId={app.id as string} />;
  return <NotFoundPage />;
}

startPortal({
  title: "Developer Portal",
  base: "/devportal",
  roles: ["subscriber", "admin"],
  nav: [
    { label: "APIs", path: "/" },
    { label: "Applications", path: "/applications" },
    { label: "Account", path: "/account" },
  ],
  page,
  signIn: (
    <p class="signin-more">
      No account yet? <Link to="/signup">Sign up</Link>
    </p>
  ),
  public: (path) => (path === "/signup" ? <SignUpPage /> : null),
});
