// The vendor's OpenAPI document as the Try Out console needs it: served by this API's gateway
// URL, called with the developer's aigw key (the vendor's own security scheme describes the
// provider's key, which the gateway holds), and with a JSON body to edit on every operation
// that takes one, prefilled with the seed's example for chat completions.
//
// The document is written by whoever defined the vendor, and Swagger UI renders its
// descriptions as Markdown with raw HTML: its sanitizer strips script, but raw HTML is shown
// as text here so no active markup is even parsed. Servers the document names for a path or
// an operation are dropped: every call goes to the gateway, the only place the key is sent.
import { EXAMPLE_CHAT } from "./snippets";

type Json = Record<string, unknown>;
const BODY_METHODS = ["post", "put", "patch"];

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function consoleSpec(definition: Json, serverUrl: string): Json {
  const spec = escapeDescriptions(structuredClone(definition)) as Json;
  spec.servers = [{ url: serverUrl, description: "aigw gateway" }];
  delete spec.security;
  if (isObject(spec.components)) delete spec.components.securitySchemes;
  const paths = isObject(spec.paths) ? spec.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    delete item.servers;
    for (const [method, operation] of Object.entries(item)) {
      if (!isObject(operation)) continue;
      delete operation.security;
      delete operation.servers;
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

// values that are data, not prose: an example body keeps its characters
const DATA_KEYS = new Set(["example", "examples", "default", "enum", "const"]);

/** Every `description` string with "<" as an entity, so Markdown shows raw HTML as text. */
export function escapeDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(escapeDescriptions);
  if (!isObject(value)) return value;
  for (const [key, child] of Object.entries(value)) {
    if (key === "description" && typeof child === "string") value[key] = child.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    else if (!DATA_KEYS.has(key)) value[key] = escapeDescriptions(child);
  }
  return value;
}

/** Whether a request Swagger UI is about to send goes to this API at the gateway. */
export function goesTo(url: string, server: string): boolean {
  return url === server || url.startsWith(`${server.replace(/\/$/, "")}/`);
}
