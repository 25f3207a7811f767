import { describe, expect, it } from "vitest";
import { match } from "./router";

describe("match", () => {
  it("reads the parameters of a matching path", () => {
    expect(match("/apis/:id/:tab", "/apis/abc/endpoints")).toEqual({ id: "abc", tab: "endpoints" });
  });

  it("refuses a path of another shape", () => {
    expect(match("/apis/:id", "/apis/abc/endpoints")).toBeNull();
    expect(match("/apis", "/applications")).toBeNull();
  });

  it("decodes encoded parts", () => {
    expect(match("/vendors/:name/:version", "/vendors/My%20Vendor/v1")).toEqual({ name: "My Vendor", version: "v1" });
  });
});
