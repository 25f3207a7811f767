// The publisher API's shapes the pages use, and the calls more than one page makes.
import type { components } from "../api/generated/publisher";
import { publisher, unwrap } from "../shared/api";
import type { ApiError } from "../shared/errors";

export type Api = components["schemas"]["ApiOut"];
export type Vendor = components["schemas"]["VendorOut"];
export type Policy = components["schemas"]["PolicyOut"];
export type RoutingPolicy = components["schemas"]["RoutingPolicy"];
export type BackendSecurity = components["schemas"]["BackendSecurityOut"];
export type LifecycleAction = components["schemas"]["LifecycleIn"]["action"];
export type KeyType = "production" | "sandbox";
export const KEY_TYPES: KeyType[] = ["production", "sandbox"];

export function getApi(apiId: string): Promise<Api> {
  return unwrap(publisher.GET("/api/publisher/v1/apis/{api_id}", { params: { path: { api_id: apiId } } }));
}

/** PATCH /apis/{id}: a JSON merge patch (RFC 7396), so what the page does not name is kept. */
export function patchApi(apiId: string, patch: Record<string, unknown>): Promise<Api> {
  return unwrap(
    publisher.PATCH("/api/publisher/v1/apis/{api_id}", {
      params: { path: { api_id: apiId } },
      body: patch,
      headers: { "Content-Type": "application/merge-patch+json" },
    }),
  );
}

export function apiPath(api: { id: string }, tab = "overview"): string {
  return `/apis/${encodeURIComponent(api.id)}/${tab}`;
}

/** The badge class of a lifecycle state (CREATED, PUBLISHED). */
export function stateClass(state: string): string {
  return `badge badge-${state.toLowerCase() === "published" ? "published" : "created"}`;
}

/** True when `error` names at least one of `fields`, so the form shows it next to them. */
export function namesAnyField(error: ApiError | null, fields: string[]): boolean {
  return !!error && fields.some((name) => error.fieldError(name) !== undefined);
}
