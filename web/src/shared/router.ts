// A small history-API router: each portal lives under one prefix (/publisher, /admin,
// /devportal) and the service serves the same page for every path under it.
import { useEffect, useState } from "preact/hooks";

let base = "";
const listeners = new Set<() => void>();

export function setBase(prefix: string): void {
  base = prefix.replace(/\/$/, "");
  addEventListener("popstate", () => {
    for (const listener of listeners) listener();
  });
}

export function currentPath(): string {
  const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : location.pathname;
  return path === "" ? "/" : path;
}

export function href(path: string): string {
  return `${base}${path}`;
}

export function navigate(path: string, { replace = false } = {}): void {
  const target = href(path);
  if (replace) history.replaceState(null, "", target);
  else history.pushState(null, "", target);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    listeners.add(update);
    return () => listeners.delete(update);
  }, []);
  return path;
}

/** Params of `pattern` (e.g. "/apis/:id/:tab") in `path`, or null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const value = got[i] as string;
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(value);
    else if (part !== value) return null;
  }
  return params;
}
