import { describe, expect, it } from "vitest";
import { toApiError } from "./errors";

describe("toApiError", () => {
  it("keeps the fields the service names", () => {
    const error = toApiError(422, { code: 422, message: "Invalid input", description: "context: too short", fields: { context: "too short" } }, null);
    expect(error.fieldError("context")).toBe("too short");
    expect(error.fieldError("name")).toBeUndefined();
  });

  it("matches a nested field path by its first part", () => {
    const error = toApiError(422, { fields: { "endpoints.production": "not a URL" } }, null);
    expect(error.fieldError("endpoints")).toBe("not a URL");
  });

  it("says when to retry after a 429", () => {
    const error = toApiError(429, { message: "Too many requests", description: "Too many failed sign-ins." }, "42");
    expect(error.retryAfterSeconds).toBe(42);
    expect(error.userMessage).toContain("Try again in 42 seconds");
  });

  it("does not say it twice when the description already says when", () => {
    const error = toApiError(429, { description: "Too many failed logins; retry in 59 s" }, "59");
    expect(error.userMessage).toBe("Too many failed logins; retry in 59 s");
  });

  it("turns a 5xx into a message rather than a raw body", () => {
    const error = toApiError(500, "<html>boom</html>", null);
    expect(error.userMessage).toMatch(/^The service failed \(500\)/);
  });
});
