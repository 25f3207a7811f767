// Typed clients of the services' public REST APIs; the types come from each service's own
// OpenAPI document (src/api/generated), so a call the API no longer accepts fails the build.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths as DevportalPaths } from "../api/generated/devportal";
import type { paths as KeymanagerPaths } from "../api/generated/keymanager";
import type { paths as PublisherPaths } from "../api/generated/publisher";
import { config } from "./config";
import { ApiError, networkError, toApiError } from "./errors";
import * as session from "./session";

const bearer: Middleware = {
  onRequest({ request }) {
    const current = session.token();
    if (current && !request.headers.has("Authorization")) request.headers.set("Authorization", `Bearer ${current}`);
    return request;
  },
  onResponse({ request, response }) {
    // a 401 to a signed-in call: the token expired or was revoked
    if (response.status === 401 && request.headers.has("Authorization")) session.expire();
    return response;
  },
};

function client<Paths extends {}>(apiBase: string): Client<Paths> {
  const api = createClient<Paths>({ baseUrl: new URL(apiBase).origin });
  api.use(bearer);
  return api;
}

export const publisher = client<PublisherPaths>(config.publisher);
export const devportal = client<DevportalPaths>(config.devportal);
export const keymanager = client<KeymanagerPaths>(config.keymanager);

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's body, or an ApiError carrying the service's error (fields, Retry-After). */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (cause) {
    throw cause instanceof ApiError ? cause : networkError(cause);
  }
  const { response } = outcome;
  if (!response.ok) throw toApiError(response.status, outcome.error, response.headers.get("Retry-After"));
  return outcome.data as T;
}

/** Sign in at keymanager; the token is kept for this tab. */
export async function login(username: string, password: string): Promise<void> {
  const answer = await unwrap(keymanager.POST("/api/keymanager/v1/auth/login", { body: { username, password } }));
  session.signIn(answer.access_token);
}
