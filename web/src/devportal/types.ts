// The devportal API's shapes the pages use, from the generated OpenAPI types.
import type { components } from "../api/generated/devportal";

type Schemas = components["schemas"];
export type CatalogApi = Schemas["CatalogApi"];
export type Application = Schemas["Application"];
export type Subscription = Schemas["Subscription"];
export type Plan = Schemas["Plan"];
export type ShownKey = Schemas["ApplicationKey"];
export type OAuthKeys = Schemas["OAuthKeys"];
export type OAuthKeySummary = Schemas["OAuthKeySummary"];
export type KeyType = "PRODUCTION" | "SANDBOX";

export type KeySummary = Schemas["KeySummary"];
