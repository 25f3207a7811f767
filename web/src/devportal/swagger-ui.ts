// Swagger UI, loaded from this machine (the build copies swagger-ui-dist to /ui/vendor/) by
// <script>/<link> elements added at run time: same origin, so the page's strict CSP allows
// them, and nothing is fetched until a user opens Try Out.

export interface SwaggerRequest {
  url: string;
  headers: Record<string, string>;
  userFetch?: typeof fetch;
  [key: string]: unknown;
}

export interface SwaggerOptions {
  spec: Record<string, unknown>;
  domNode: HTMLElement;
  requestInterceptor: (request: SwaggerRequest) => SwaggerRequest;
  [key: string]: unknown;
}

interface SwaggerUIBundle {
  (options: SwaggerOptions): unknown;
  presets: { apis: unknown };
}

declare global {
  interface Window {
    SwaggerUIBundle?: SwaggerUIBundle;
  }
}

const VENDOR = "/ui/vendor/";
let loading: Promise<SwaggerUIBundle> | null = null;

function add<T extends HTMLElement>(element: T): Promise<void> {
  return new Promise((resolve, reject) => {
    element.addEventListener("load", () => resolve(), { once: true });
    element.addEventListener("error", () => reject(new Error(`could not load ${element.tagName.toLowerCase()} from ${VENDOR}`)), { once: true });
    document.head.append(element);
  });
}

export function loadSwaggerUI(): Promise<SwaggerUIBundle> {
  if (window.SwaggerUIBundle) return Promise.resolve(window.SwaggerUIBundle);
  loading ??= (async () => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = `${VENDOR}swagger-ui.css`;
    const script = document.createElement("script");
    script.src = `${VENDOR}swagger-ui-bundle.js`;
    await Promise.all([add(css), add(script)]);
    if (!window.SwaggerUIBundle) throw new Error("Swagger UI did not start");
    return window.SwaggerUIBundle;
  })().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}
