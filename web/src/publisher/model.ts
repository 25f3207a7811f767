// The calls more than one page makes.
import { publisher, unwrap } from "../shared/api";
import type { Api } from "./types";

export * from "./types";
export * from "./helpers";

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

