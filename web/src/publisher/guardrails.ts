// The Policies page's guardrails and response cache, as pure logic (unit-tested with Vitest):
// the JSON editor's text <-> the list, the cache form <-> the API's `cache`, and which of the
// API's 422 field errors belong to which section.
import type { Api } from "./types";

export type Cache = NonNullable<Api["cache"]>;
export type CacheMode = "none" | Cache["mode"];
export type CacheScope = Cache["scope"];

export interface CacheForm {
  mode: CacheMode;
  ttlSeconds: string;
  threshold: string;
  scope: CacheScope;
}

export function guardrailsDocument(api: Pick<Api, "guardrails">): string {
  return JSON.stringify(api.guardrails, null, 2);
}

/** The editor's text as the list to send, or what is wrong with it (checked before sending). */
export function parseGuardrails(text: string): { value: unknown[] } | { error: string } {
  if (text.trim() === "") return { value: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    return { error: `Not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}` };
  }
  if (!Array.isArray(parsed)) return { error: 'Send a JSON array of guardrails, e.g. [{"type": "REGEX_GUARDRAIL", ...}]' };
  return { value: parsed };
}

/** The API's field errors under `prefix` (e.g. "guardrails"), one line each, path first. */
export function fieldErrors(fields: Record<string, string>, prefix: string): string[] {
  return Object.entries(fields)
    .filter(([path]) => path === prefix || path.startsWith(`${prefix}.`))
    .map(([path, message]) => `${path}: ${message}`);
}

export function cacheForm(cache: Api["cache"]): CacheForm {
  if (!cache) return { mode: "none", ttlSeconds: "300", threshold: "", scope: "application" };
  return {
    mode: cache.mode,
    ttlSeconds: String(cache.ttlSeconds ?? 300),
    threshold: cache.threshold === null || cache.threshold === undefined ? "" : String(cache.threshold),
    scope: cache.scope ?? "application",
  };
}

function number(text: string): number | string {
  const trimmed = text.trim();
  return trimmed !== "" && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

/** The `cache` a merge patch sends: null for none; the whole object otherwise (a threshold
 * only in semantic mode, null otherwise so a stored one is removed). Values that are not
 * numbers go as typed, for the API to refuse next to the field. */
export function cachePatch(form: CacheForm): Record<string, unknown> | null {
  if (form.mode === "none") return null;
  const threshold = form.mode === "semantic" && form.threshold.trim() !== "" ? number(form.threshold) : null;
  return { mode: form.mode, ttlSeconds: number(form.ttlSeconds), threshold, scope: form.scope };
}
