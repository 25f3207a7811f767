// The publisher API's shapes the pages use.
import type { components } from "../api/generated/publisher";

export type Api = components["schemas"]["ApiOut"];
export type Vendor = components["schemas"]["VendorOut"];
export type Policy = components["schemas"]["PolicyOut"];
export type RoutingPolicy = components["schemas"]["RoutingPolicy"];
export type BackendSecurity = components["schemas"]["BackendSecurityOut"];
export type LifecycleAction = components["schemas"]["LifecycleIn"]["action"];
export type KeyType = "production" | "sandbox";
export const KEY_TYPES: KeyType[] = ["production", "sandbox"];

