// The portal's pure logic (no DOM, no service calls), unit-tested with Vitest.
import type { ApiError } from "../shared/errors";
import type { BackendSecurity, Vendor } from "./types";

/** The badge class of a lifecycle state (CREATED, PUBLISHED). */
export function stateClass(state: string): string {
  return `badge badge-${state.toLowerCase() === "published" ? "published" : "created"}`;
}

/** True when `error` names at least one of `fields`, so the form shows it next to them. */
export function namesAnyField(error: ApiError | null, fields: string[]): boolean {
  return !!error && fields.some((name) => error.fieldError(name) !== undefined);
}

export type KeyState = { kind: "set"; masked: string } | { kind: "keyless" } | { kind: "missing" };

export function keyState(security: BackendSecurity, name: string): KeyState {
  const entry = security[name];
  if (entry && "apiKey" in entry) return { kind: "set", masked: entry.apiKey };
  if (entry && "keyless" in entry) return { kind: "keyless" };
  return { kind: "missing" };
}

/** A requests-per-second field's value as the API takes it: a whole number, or null for no cap. */
export function throttleValue(text: string): number | null | string {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

// Where each built-in vendor's API lives (vendor definitions name no server); the publisher
// points an endpoint at a mock or a proxy on the Endpoints page.
const KNOWN_ENDPOINTS: Record<string, string> = {
  OpenAI: "https://api.openai.com",
  MistralAI: "https://api.mistral.ai",
  Anthropic: "https://api.anthropic.com",
};

export function defaultEndpoint(vendor: Vendor | undefined): string {
  if (!vendor) return "";
  const servers = (vendor.apiDefinition as { servers?: { url?: unknown }[] } | null | undefined)?.servers;
  const url = servers?.[0]?.url;
  if (typeof url === "string" && /^https?:\/\//.test(url)) return url;
  return KNOWN_ENDPOINTS[vendor.name] ?? "";
}

