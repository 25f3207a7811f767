// Try Out: a test key (Get Test Key) and the API's operations (its vendor's OpenAPI document)
// in Swagger UI, calling this API at the gateway with the key as a bearer token. An event
// stream's chunks show in "Streamed response" as they arrive.
import { useEffect, useRef, useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { config } from "../shared/config";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { asApiError, Button, ErrorMessage, Loaded, Loading, Notice, Section, TextField, useAction, useLoad } from "../shared/ui";
import type { ApiError } from "../shared/errors";
import { loadApi } from "./api-overview";
import { consoleSpec, goesTo } from "./console-spec";
import { invocationUrl } from "./snippets";
import { teeingFetch } from "./stream-tee";
import { loadSwaggerUI, type SwaggerRequest } from "./swagger-ui";
import type { CatalogApi } from "./types";

async function loadTryOut(apiId: string): Promise<{ api: CatalogApi; definition: Record<string, unknown> }> {
  const path = { params: { path: { api_id: apiId } } };
  const [api, definition] = await Promise.all([loadApi(apiId), unwrap(devportal.GET("/api/devportal/v1/apis/{api_id}/definition", path))]);
  return { api, definition };
}

export function TryOutPage({ apiId }: { apiId: string }) {
  const [load] = useLoad(() => loadTryOut(apiId), [apiId]);
  usePageTitle(load.state === "ready" ? `Try Out ${load.data.api.name}` : "Try Out", "Developer Portal");
  return (
    <Loaded load={load} label="the API's operations">
      {({ api, definition }) => <TryOut api={api} definition={definition} />}
    </Loaded>
  );
}

interface Stream {
  state: "idle" | "streaming" | "done";
  text: string;
}

function TryOut({ api, definition }: { api: CatalogApi; definition: Record<string, unknown> }) {
  const [key, setKey] = useState("");
  const keyRef = useRef(key);
  keyRef.current = key;
  const [expires, setExpires] = useState<number | null>(null);
  const [stream, setStream] = useState<Stream>({ state: "idle", text: "" });
  const action = useAction();
  const getKey = () =>
    action.run(async () => {
      const issued = await unwrap(devportal.POST("/api/devportal/v1/apis/{api_id}/test-key", { params: { path: { api_id: api.id } } }));
      setKey(issued.apiKey);
      setExpires(issued.expiresIn);
    });
  const server = invocationUrl(config.gateway, api.routePrefix);
  const onRequest = (request: SwaggerRequest): SwaggerRequest => {
    // only calls to this API at the gateway carry the key (not a $ref the document fetches)
    if (keyRef.current && goesTo(request.url, server)) request.headers.Authorization = `Bearer ${keyRef.current}`;
    request.userFetch = teeingFetch({
      start: () => setStream({ state: "streaming", text: "" }),
      chunk: (text) => setStream((now) => ({ state: "streaming", text: now.text + text })),
      end: () => setStream((now) => ({ ...now, state: "done" })),
    });
    return request;
  };
  return (
    <div>
      <PageHeader title={`Try Out ${api.name}`}>
        <Link to={`/apis/${encodeURIComponent(api.id)}`}>Back to the overview</Link>
      </PageHeader>
      <Section title="Test key">
        <p>A test key calls this API's production endpoint without a subscription, for a short while.</p>
        <div class="form">
          <TextField
            label="API Key"
            value={key}
            onValue={setKey}
            autoComplete="off"
            hint={expires !== null ? `Valid for ${Math.round(expires / 60)} minutes; it is not shown again once you leave.` : "Get a test key, or paste one of your application's keys."}
          />
          <ErrorMessage error={action.error} />
          <div>
            <Button kind="primary" onClick={getKey} busy={action.busy}>
              Get Test Key
            </Button>
          </div>
        </div>
      </Section>
      <Section title="Operations">
        <p class="muted">
          Calls go to <code>{server}</code> with the key above as <code>Authorization: Bearer</code>.
        </p>
        <SwaggerConsole spec={consoleSpec(definition, server)} onRequest={onRequest} />
      </Section>
      <section class="card" aria-label="Streamed response" aria-live="polite" aria-busy={stream.state === "streaming" ? "true" : "false"}>
        <h2>Streamed response</h2>
        {stream.state === "idle" ? (
          <p class="muted">Send a request with "stream": true and its events show here as they arrive.</p>
        ) : (
          <>
            <p class="muted">{stream.state === "streaming" ? "Receiving…" : "Stream complete."}</p>
            <pre class="stream" tabIndex={0} aria-label="Streamed events">
              {stream.text}
            </pre>
          </>
        )}
      </section>
    </div>
  );
}

function SwaggerConsole({ spec, onRequest }: { spec: Record<string, unknown>; onRequest: (request: SwaggerRequest) => SwaggerRequest }) {
  const root = useRef<HTMLDivElement>(null);
  const intercept = useRef(onRequest);
  intercept.current = onRequest;
  const [state, setState] = useState<"loading" | "ready" | ApiError>("loading");
  useEffect(() => {
    let live = true;
    loadSwaggerUI().then(
      (SwaggerUI) => {
        if (!live || !root.current) return;
        SwaggerUI({
          spec,
          domNode: root.current,
          presets: [SwaggerUI.presets.apis],
          layout: "BaseLayout",
          deepLinking: false,
          tryItOutEnabled: false,
          defaultModelsExpandDepth: -1,
          requestInterceptor: (request: SwaggerRequest) => intercept.current(request),
        });
        setState("ready");
      },
      (error: unknown) => live && setState(asApiError(error)),
    );
    return () => {
      live = false;
    };
    // the console is built once per page: the spec does not change while it is open
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return (
    <>
      {state === "loading" && <Loading label="Loading the console" />}
      {typeof state === "object" && (
        <>
          <ErrorMessage error={state} />
          <Notice kind="info">The console could not start; the snippets on the API's overview call it too.</Notice>
        </>
      )}
      <div ref={root} class="swagger-console" data-testid="swagger-ui" />
    </>
  );
}
