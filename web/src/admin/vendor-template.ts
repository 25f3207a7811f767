// What the "Add AI vendor" editor starts from: a definition the API accepts as it is (an
// OpenAI-style chat provider), so an admin edits a working example instead of a blank page.
export const VENDOR_TEMPLATE = {
  name: "MyVendor",
  version: "v1",
  description: "An OpenAI-compatible chat provider",
  auth: { type: "header", name: "Authorization", valuePrefix: "Bearer " },
  metadata: {
    requestModel: { inputSource: "payload", attributeIdentifier: "$.model" },
    responseModel: { inputSource: "payload", attributeIdentifier: "$.model" },
    promptTokenCount: { inputSource: "payload", attributeIdentifier: "$.usage.prompt_tokens" },
    completionTokenCount: { inputSource: "payload", attributeIdentifier: "$.usage.completion_tokens" },
    totalTokenCount: { inputSource: "payload", attributeIdentifier: "$.usage.total_tokens" },
  },
  stream: { content: "$.choices[0].delta.content" },
  apiDefinition: {
    openapi: "3.0.3",
    info: { title: "MyVendor", version: "v1" },
    paths: { "/v1/chat/completions": { post: { responses: { "200": { description: "OK" } } } } },
  },
};

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** The editor's text as a JSON object, or the reason it is not one. */
export function parseDefinition(text: string): { value: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    return { error: `Not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "The definition must be a JSON object ({ … })." };
  return { value: value as Record<string, unknown> };
}
