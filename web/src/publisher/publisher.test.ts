import { describe, expect, it } from "vitest";
import { ApiError } from "../shared/errors";
import { cacheForm, cachePatch, fieldErrors, parseGuardrails } from "./guardrails";
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

describe("guardrails and response cache", () => {
  it("reads the editor's text as a list, and says what is wrong before sending", () => {
    expect(parseGuardrails(' [{"type": "REGEX_GUARDRAIL"}] ')).toEqual({ value: [{ type: "REGEX_GUARDRAIL" }] });
    expect(parseGuardrails("  ")).toEqual({ value: [] });
    expect(parseGuardrails("[{")).toHaveProperty("error", expect.stringMatching(/^Not valid JSON/));
    expect(parseGuardrails('{"type": "REGEX_GUARDRAIL"}')).toHaveProperty("error", expect.stringMatching(/JSON array/));
  });

  it("keeps the field errors of one section, path first", () => {
    const fields = { "guardrails.0.params.regex": "not a valid regex", guardrails: "names must be distinct", "cache.threshold": "semantic only", guardrailsX: "other" };
    expect(fieldErrors(fields, "guardrails")).toEqual(["guardrails.0.params.regex: not a valid regex", "guardrails: names must be distinct"]);
    expect(fieldErrors(fields, "cache")).toEqual(["cache.threshold: semantic only"]);
  });

  it("turns the cache form into the API's cache and back", () => {
    expect(cacheForm(null)).toEqual({ mode: "none", ttlSeconds: "300", threshold: "", scope: "application" });
    expect(cachePatch(cacheForm(null))).toBeNull();
    const semantic = { mode: "semantic" as const, ttlSeconds: 600, threshold: 0.92, scope: "api" as const };
    expect(cachePatch(cacheForm(semantic))).toEqual(semantic);
    // exact mode sends no threshold (null removes a stored one); what is not a number goes as typed
    expect(cachePatch({ mode: "exact", ttlSeconds: "60", threshold: "0.9", scope: "application" })).toEqual({
      mode: "exact",
      ttlSeconds: 60,
      threshold: null,
      scope: "application",
    });
    expect(cachePatch({ mode: "semantic", ttlSeconds: "ten", threshold: "", scope: "api" })).toEqual({
      mode: "semantic",
      ttlSeconds: "ten",
      threshold: null,
      scope: "api",
    });
  });
});
