import { describe, expect, it } from "vitest";
import { consoleSpec, goesTo } from "./console-spec";
import { invocationUrl, KEY_PLACEHOLDER, snippets, tokenCurl } from "./snippets";
import { teeingFetch } from "./stream-tee";

describe("invocationUrl", () => {
  it("joins the gateway and the route prefix with one slash", () => {
    expect(invocationUrl("http://127.0.0.1:8280/", "/mistralaiapi/0.0.2")).toBe("http://127.0.0.1:8280/mistralaiapi/0.0.2");
  });
});

describe("snippets", () => {
  it("call the API's base URL with the key placeholder", () => {
    const all = snippets("http://gw/api/1");
    expect(all.map((s) => s.label)).toEqual(["curl", "OpenAI Python", "OpenAI Node"]);
    for (const snippet of all) {
      expect(snippet.code).toContain("http://gw/api/1");
      expect(snippet.code).toContain(KEY_PLACEHOLDER);
    }
    expect(tokenCurl("http://km/api/keymanager/v1/", "ck")).toContain("http://km/api/keymanager/v1/oauth2/token");
  });
});

describe("consoleSpec", () => {
  const definition = {
    openapi: "3.0.3",
    security: [{ providerKey: [] }],
    components: { securitySchemes: { providerKey: { type: "http", scheme: "bearer" } } },
    paths: {
      "/v1/chat/completions": { post: { summary: "chat" } },
      "/v1/models": { get: {} },
      "/v1/other": { post: { requestBody: { content: { "text/plain": {} } } } },
    },
  };

  it("points at the API's gateway URL, without the provider's security scheme", () => {
    const spec = consoleSpec(definition, "http://gw/x/1");
    expect(spec.servers).toEqual([{ url: "http://gw/x/1", description: "aigw gateway" }]);
    expect(spec.security).toBeUndefined();
    expect(spec.components).toEqual({});
    expect(definition.security).toHaveLength(1); // the original is left alone
  });

  it("prefills the chat body with the seed's example and keeps a body the vendor defined", () => {
    const paths = consoleSpec(definition, "http://gw").paths as Record<string, Record<string, Record<string, unknown>>>;
    const chat = JSON.stringify(paths["/v1/chat/completions"]?.post?.requestBody);
    expect(chat).toContain("Who is the most renowned French painter?");
    expect(paths["/v1/models"]?.get?.requestBody).toBeUndefined();
    expect(paths["/v1/other"]?.post?.requestBody).toEqual({ content: { "text/plain": {} } });
  });

  it("shows raw HTML in descriptions as text and keeps example bodies as they are", () => {
    const hostile = {
      openapi: "3.0.3",
      info: { title: "t", version: "1", description: "<img src=x onerror=alert(1)> & more" },
      paths: { "/a": { post: { description: "<script>x</script>", requestBody: { content: { "application/json": { example: { description: "<b>" } } } } } } },
    };
    const spec = consoleSpec(hostile, "http://gw") as { info: { description: string }; paths: Record<string, Record<string, Record<string, unknown>>> };
    expect(spec.info.description).toBe("&lt;img src=x onerror=alert(1)> &amp; more");
    expect(spec.paths["/a"]?.post?.description).toBe("&lt;script>x&lt;/script>");
    expect(JSON.stringify(spec.paths["/a"]?.post?.requestBody)).toContain('{"description":"<b>"}');
  });

  it("drops the servers a path or an operation names: calls go to the gateway", () => {
    const elsewhere = { openapi: "3.0.3", paths: { "/a": { servers: [{ url: "http://evil" }], post: { servers: [{ url: "http://evil" }] } } } };
    const spec = consoleSpec(elsewhere, "http://gw") as { paths: Record<string, Record<string, Record<string, unknown>>> };
    expect(spec.paths["/a"]?.servers).toBeUndefined();
    expect(spec.paths["/a"]?.post?.servers).toBeUndefined();
  });
});

describe("teeingFetch", () => {
  it("shows an event stream's chunks and still returns the whole body", async () => {
    const chunks: string[] = [];
    let ended = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: one\n\n"));
        controller.enqueue(new TextEncoder().encode("data: [DONE]\n\n"));
        controller.close();
      },
    });
    const base = async () => new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
    const fetcher = teeingFetch({ start: () => chunks.splice(0), chunk: (t) => chunks.push(t), end: () => (ended = true) }, base as typeof fetch);
    const response = await fetcher("http://gw");
    expect(await response.text()).toBe("data: one\n\ndata: [DONE]\n\n");
    await expect.poll(() => ended).toBe(true);
    expect(chunks.join("")).toBe("data: one\n\ndata: [DONE]\n\n");
  });

  it("leaves other answers alone", async () => {
    const original = new Response("{}", { headers: { "content-type": "application/json" } });
    const fetcher = teeingFetch({ start() {}, chunk() {}, end() {} }, (async () => original) as typeof fetch);
    expect(await fetcher("http://gw")).toBe(original);
  });
});

describe("goesTo", () => {
  it("is true only under the API's gateway URL", () => {
    expect(goesTo("http://gw/x/1/v1/chat", "http://gw/x/1")).toBe(true);
    expect(goesTo("http://gw/x/1", "http://gw/x/1")).toBe(true);
    expect(goesTo("http://gw/x/10/v1", "http://gw/x/1")).toBe(false);
    expect(goesTo("http://gw.evil/x/1/v1", "http://gw")).toBe(false);
    expect(goesTo("http://keymanager/steal", "http://gw/x/1")).toBe(false);
  });
});
