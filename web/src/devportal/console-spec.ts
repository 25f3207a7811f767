// The vendor's OpenAPI document as the Try Out console needs it: served by this API's gateway
// URL, called with the developer's aigw key (the vendor's own security scheme describes the
// provider's key, which the gateway holds), and with a JSON body to edit on every operation
// that takes one, prefilled with the seed's example for chat completions.
import { EXAMPLE_CHAT } from "./snippets";

type Json = Record<string, unknown>;
const BODY_METHODS = ["post", "put", "patch"];

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function consoleSpec(definition: Json, serverUrl: string): Json {
  const spec = structuredClone(definition);
  spec.servers = [{ url: serverUrl, description: "aigw gateway" }];
  delete spec.security;
  if (isObject(spec.components)) delete spec.components.securitySchemes;
  const paths = isObject(spec.paths) ? spec.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!isObject(operation)) continue;
      delete operation.security;
      if (BODY_METHODS.includes(method) && operation.requestBody === undefined) {
        const example = path.endsWith("/chat/completions") ? EXAMPLE_CHAT : {};
        operation.requestBody = {
          required: true,
          content: { "application/json": { schema: { type: "object" }, example } },
        };
      }
    }
  }
  return spec;
}
