// The services' error contract, `{"code", "message", "description", "fields"?}`, as one
// exception the pages show: next to the field it names, or as a message.

export interface ErrorBody {
  code?: number;
  message?: string;
  description?: string;
  fields?: Record<string, string>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly description: string,
    readonly fields: Record<string, string> = {},
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(description || title);
  }

  /** The message a user reads: what went wrong and, for a 429, when to try again. */
  get userMessage(): string {
    if (this.status >= 500) return `The service failed (${this.status}): ${this.description || this.title}. Try again in a moment.`;
    const text = this.description || this.title;
    // some services already say when, in words; Retry-After says it for the rest
    if (this.retryAfterSeconds !== null && !/retry|try again/i.test(text)) return `${text} Try again in ${this.retryAfterSeconds} seconds.`;
    return text;
  }

  /** The error for one field, e.g. `fieldError("context")`, matching nested paths too. */
  fieldError(name: string): string | undefined {
    return fieldMessage(this.fields, name);
  }
}

/** The message for `name` or anything under it (e.g. "limits.0.requests" for "limits.0"). */
export function fieldMessage(fields: Record<string, string>, name: string): string | undefined {
  return fields[name] ?? Object.entries(fields).find(([path]) => path.startsWith(`${name}.`))?.[1];
}

export function toApiError(status: number, body: unknown, retryAfter: string | null): ApiError {
  const error = (typeof body === "object" && body !== null ? body : {}) as ErrorBody;
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null;
  const description = error.description ?? (typeof body === "string" ? body : "");
  return new ApiError(status, error.message ?? `Request failed (${status})`, description, error.fields ?? {}, seconds);
}

export function networkError(cause: unknown): ApiError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new ApiError(0, "Network error", `The service could not be reached (${detail}).`);
}
