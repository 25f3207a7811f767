import { describe, expect, it } from "vitest";
import { ApiError } from "./errors";
import { describedFields, fieldMessage, hasUnplacedField } from "./validation";

describe("describedFields", () => {
  it("places each path the service names", () => {
    const error = new ApiError(422, "Invalid input", "limits.0.requests: Input should be greater than 0; name: too long", {
      "limits.0.requests": "Input should be greater than 0",
      name: "too long",
    });
    const fields = describedFields(error);
    expect(fieldMessage(fields, "limits.0")).toBe("Input should be greater than 0");
    expect(hasUnplacedField(fields, ["name", "limits.0"])).toBe(false);
    expect(hasUnplacedField(fields, ["name"])).toBe(true);
  });

  it("names nothing for an error about no field", () => {
    expect(describedFields(new ApiError(422, "Invalid input", "Unknown subscription policy 'x'"))).toEqual({});
    expect(describedFields(null)).toEqual({});
  });
});
