import { describe, expect, it } from "vitest";
import { ApiError } from "./errors";
import { describedFields, fieldMessage, hasUnplacedField } from "./validation";

describe("describedFields", () => {
  it("reads each path of a 422's description", () => {
    const error = new ApiError(422, "Invalid input", "limits.0.requests: Input should be greater than 0; name: String should match pattern");
    const fields = describedFields(error);
    expect(fields).toEqual({ "limits.0.requests": "Input should be greater than 0", name: "String should match pattern" });
    expect(fieldMessage(fields, "limits.0")).toBe("Input should be greater than 0");
    expect(hasUnplacedField(fields, ["name", "limits.0"])).toBe(false);
    expect(hasUnplacedField(fields, ["name"])).toBe(true);
  });

  it("ignores other statuses and sentences that name no field", () => {
    expect(describedFields(new ApiError(409, "Conflict", "name: taken"))).toEqual({});
    expect(describedFields(new ApiError(422, "Invalid input", "Unknown subscription policy 'x'"))).toEqual({});
  });
});
