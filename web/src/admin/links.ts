// Admin Portal paths, built in one place so names with odd characters are always encoded.
export const PORTAL = "Admin Portal";

export function vendorPath(name: string, version: string, suffix = ""): string {
  return `/vendors/${encodeURIComponent(name)}/${encodeURIComponent(version)}${suffix}`;
}

export function planPath(name: string): string {
  return `/plans/${encodeURIComponent(name)}`;
}

export function userPath(username: string): string {
  return `/users/${encodeURIComponent(username)}`;
}
