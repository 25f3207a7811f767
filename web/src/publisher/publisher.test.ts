import { describe, expect, it } from "vitest";
import { ApiError } from "../shared/errors";
import { defaultEndpoint, keyState, namesAnyField, stateClass, throttleValue } from "./helpers";
import type { Vendor } from "./types";

const vendor = (name: string, apiDefinition: Record<string, unknown> | null = null) =>
  ({ name, version: "v1", auth: { type: "header" }, builtIn: true, apiDefinition }) as unknown as Vendor;

describe("publisher portal helpers", () => {
  it("tells a saved key, a deliberately keyless endpoint and a missing key apart", () => {
    const security = { production: { apiKey: "****abcd" }, sandbox: { keyless: true as const }, backup: null };
    expect(keyState(security, "production")).toEqual({ kind: "set", masked: "****abcd" });
    expect(keyState(security, "sandbox")).toEqual({ kind: "keyless" });
    expect(keyState(security, "backup")).toEqual({ kind: "missing" });
  });

  it("reads a throttle field as a number, null for empty, and passes anything else on for the API to refuse", () => {
    expect(throttleValue(" 50 ")).toBe(50);
    expect(throttleValue("")).toBeNull();
    expect(throttleValue("1.5")).toBe("1.5");
  });

  it("prefills the endpoint from the vendor's servers, else the known provider's URL", () => {
    expect(defaultEndpoint(vendor("Custom", { servers: [{ url: "https://llm.example" }] }))).toBe("https://llm.example");
    expect(defaultEndpoint(vendor("MistralAI"))).toBe("https://api.mistral.ai");
    expect(defaultEndpoint(vendor("AzureOpenAI"))).toBe("");
  });

  it("knows when an error belongs next to a field", () => {
    const error = new ApiError(409, "Conflict", "taken", { context: "taken", version: "taken" });
    expect(namesAnyField(error, ["context"])).toBe(true);
    expect(namesAnyField(new ApiError(500, "x", "y"), ["context"])).toBe(false);
    expect(stateClass("PUBLISHED")).toBe("badge badge-published");
  });
});
