// What the three portals share: sign-in, the role check, the frame (header, navigation, main
// landmark) and the route switch. Each portal's main.tsx hands startPortal its pages.
import type { ComponentChildren } from "preact";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { login } from "./api";
import { href, navigate, setBase, usePath } from "./router";
import * as session from "./session";
import { Button, ErrorMessage, Notice, TextField, useAction } from "./ui";
import "../styles.css";

export interface NavItem {
  label: string;
  path: string;
}

export interface PortalSpec {
  title: string; // e.g. "Publisher Portal"
  base: string; // e.g. "/publisher"
  roles: string[]; // who may use it; the APIs check every call again
  nav: NavItem[];
  page: (path: string) => ComponentChildren;
  signIn?: ComponentChildren; // shown under the Sign in form (the Developer Portal's sign-up link)
  public?: (path: string) => ComponentChildren | null; // pages for signed-out users (sign-up)
  links?: (claims: session.Claims) => NavItem[]; // other portals, by absolute href
}

export function startPortal(spec: PortalSpec): void {
  setBase(spec.base);
  const root = document.getElementById("app");
  if (root) render(<Portal spec={spec} />, root);
}

function useClaims(): session.Claims | null {
  const [claims, setClaims] = useState(session.claims());
  useEffect(() => session.subscribe(() => setClaims(session.claims())), []);
  return claims;
}

export function usePageTitle(title: string, portal: string): void {
  useEffect(() => {
    document.title = `${title} · aigw ${portal}`;
  }, [title, portal]);
}

function Portal({ spec }: { spec: PortalSpec }) {
  const claims = useClaims();
  const path = usePath();
  if (!claims) {
    const open = spec.public?.(path);
    return <Frame spec={spec}>{open ?? <SignIn spec={spec} />}</Frame>;
  }
  if (!session.hasAnyRole(claims, spec.roles)) {
    return (
      <Frame spec={spec} claims={claims}>
        <NotAllowed spec={spec} claims={claims} />
      </Frame>
    );
  }
  return (
    <Frame spec={spec} claims={claims} nav={spec.nav} path={path}>
      {spec.page(path)}
    </Frame>
  );
}

function Frame({
  spec,
  claims,
  nav,
  path,
  children,
}: {
  spec: PortalSpec;
  claims?: session.Claims;
  nav?: NavItem[];
  path?: string;
  children: ComponentChildren;
}) {
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href("/")} onClick={follow("/")}>
          <span class="brand-mark" aria-hidden="true">
            ◆
          </span>{" "}
          aigw <span class="brand-portal">{spec.title}</span>
        </a>
        {nav && (
          <nav aria-label="Main" class="main-nav">
            {nav.map((item) => (
              <a
                key={item.path}
                href={href(item.path)}
                onClick={follow(item.path)}
                aria-current={path !== undefined && isCurrent(item.path, path) ? "page" : undefined}
              >
                {item.label}
              </a>
            ))}
            {claims &&
              spec.links?.(claims).map((item) => (
                <a key={item.path} href={item.path}>
                  {item.label}
                </a>
              ))}
          </nav>
        )}
        {claims && (
          <div class="user">
            <span class="user-name" title={claims.roles.join(", ")}>
              {claims.sub}
            </span>
            <Button onClick={() => session.signOut()}>Log out</Button>
          </div>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function isCurrent(item: string, path: string): boolean {
  return item === "/" ? path === "/" : path === item || path.startsWith(`${item}/`);
}

/** An onClick for in-portal links: history navigation instead of a page load. */
export function follow(path: string) {
  return (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(path);
  };
}

export function Link({ to, children, class: className }: { to: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={href(to)} onClick={follow(to)} class={className}>
      {children}
    </a>
  );
}

function SignIn({ spec }: { spec: PortalSpec }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  usePageTitle("Sign in", spec.title);
  const submit = async (event: Event) => {
    event.preventDefault();
    await action.run(() => login(username, password));
  };
  return (
    <div class="signin">
      <h1>Sign in to the {spec.title}</h1>
      {session.wasExpired() && <Notice kind="warning">Your session has expired. Sign in again.</Notice>}
      <form onSubmit={submit} class="form" aria-label="Sign in">
        <TextField label="Username" value={username} onValue={setUsername} autoComplete="username" required />
        <TextField label="Password" type="password" value={password} onValue={setPassword} autoComplete="current-password" required />
        <ErrorMessage error={action.error} />
        <Button kind="primary" type="submit" busy={action.busy}>
          Sign in
        </Button>
      </form>
      {spec.signIn}
    </div>
  );
}

function NotAllowed({ spec, claims }: { spec: PortalSpec; claims: session.Claims }) {
  usePageTitle("Not allowed", spec.title);
  return (
    <div class="signin">
      <h1>Not allowed</h1>
      <p>
        You are signed in as <strong>{claims.sub}</strong> ({claims.roles.join(", ") || "no roles"}), and the {spec.title} is
        for users with the role {spec.roles.join(" or ")}.
      </p>
      <Button onClick={() => session.signOut()}>Sign in as someone else</Button>
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <h1>{title}</h1>
      {children && <div class="page-actions">{children}</div>}
    </div>
  );
}

export function NotFoundPage() {
  return (
    <div>
      <h1>Page not found</h1>
      <p>
        <Link to="/">Back to the start</Link>
      </p>
    </div>
  );
}
