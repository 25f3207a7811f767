// What a developer copies to call an API through the gateway: its base URL and the same call
// in curl, the OpenAI Python SDK and the OpenAI Node SDK, with a placeholder for their key.

export const KEY_PLACEHOLDER = "<YOUR_API_KEY>";

/** The seed's example request (the getting-started's Step 4). */
export const EXAMPLE_CHAT = {
  model: "mistral-small-latest",
  messages: [{ role: "user", content: "Who is the most renowned French painter?" }],
};

/** Where the API is invoked: the gateway's base URL and the API's route prefix. */
export function invocationUrl(gateway: string, routePrefix: string): string {
  return `${gateway.replace(/\/+$/, "")}/${routePrefix.replace(/^\/+|\/+$/g, "")}`;
}

export interface Snippet {
  label: string;
  code: string;
}

export function snippets(baseUrl: string): Snippet[] {
  const body = JSON.stringify(EXAMPLE_CHAT);
  const message = EXAMPLE_CHAT.messages[0]?.content ?? "";
  return [
    {
      label: "curl",
      code: [
        `curl -s ${baseUrl}/v1/chat/completions \\`,
        `  -H "Authorization: Bearer ${KEY_PLACEHOLDER}" \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -d '${body}'`,
      ].join("\n"),
    },
    {
      label: "OpenAI Python",
      code: [
        "from openai import OpenAI",
        "",
        `client = OpenAI(base_url="${baseUrl}/v1", api_key="${KEY_PLACEHOLDER}")`,
        "answer = client.chat.completions.create(",
        `    model="${EXAMPLE_CHAT.model}",`,
        `    messages=[{"role": "user", "content": ${JSON.stringify(message)}}],`,
        ")",
        "print(answer.choices[0].message.content)",
      ].join("\n"),
    },
    {
      label: "OpenAI Node",
      code: [
        'import OpenAI from "openai";',
        "",
        `const client = new OpenAI({ baseURL: "${baseUrl}/v1", apiKey: "${KEY_PLACEHOLDER}" });`,
        "const answer = await client.chat.completions.create({",
        `  model: "${EXAMPLE_CHAT.model}",`,
        `  messages: [{ role: "user", content: ${JSON.stringify(message)} }],`,
        "});",
        "console.log(answer.choices[0].message.content);",
      ].join("\n"),
    },
  ];
}

/** keymanager's token endpoint for an application's consumer key (client credentials). */
export function tokenCurl(keymanagerApi: string, consumerKey: string): string {
  return [
    `curl -s -u "${consumerKey}:<YOUR_CONSUMER_SECRET>" \\`,
    "  -d grant_type=client_credentials \\",
    `  ${keymanagerApi.replace(/\/+$/, "")}/oauth2/token`,
  ].join("\n");
}
