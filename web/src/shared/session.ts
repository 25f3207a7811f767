// The signed-in user: keymanager's access token, kept in sessionStorage (never in a URL, a
// cookie or a log) for this tab only, and the claims the portal needs to draw itself. Every
// call is still checked by the API; the roles here only pick what to show.

export interface Claims {
  sub: string;
  roles: string[];
  exp: number;
}

const KEY = "aigw.session";
type Listener = () => void;
const listeners = new Set<Listener>();
let expiredNotice = false;

export function decodeClaims(token: string): Claims | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json) as Partial<Claims>;
    if (typeof claims.sub !== "string" || typeof claims.exp !== "number") return null;
    return { sub: claims.sub, roles: Array.isArray(claims.roles) ? claims.roles : [], exp: claims.exp };
  } catch {
    return null;
  }
}

export function token(now: number = Date.now()): string | null {
  const stored = sessionStorage.getItem(KEY);
  if (!stored) return null;
  const claims = decodeClaims(stored);
  if (!claims || claims.exp * 1000 <= now) {
    expire();
    return null;
  }
  return stored;
}

export function claims(): Claims | null {
  const current = token();
  return current ? decodeClaims(current) : null;
}

export function signIn(accessToken: string): void {
  sessionStorage.setItem(KEY, accessToken);
  expiredNotice = false;
  notify();
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  expiredNotice = false;
  notify();
}

/** The token stopped working (expired, or the API answered 401): back to Sign in, saying why. */
export function expire(): void {
  if (sessionStorage.getItem(KEY) === null) return;
  sessionStorage.removeItem(KEY);
  expiredNotice = true;
  notify();
}

export function wasExpired(): boolean {
  return expiredNotice;
}

export function hasAnyRole(current: Claims | null, roles: readonly string[]): boolean {
  return current !== null && current.roles.some((role) => roles.includes(role));
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}
