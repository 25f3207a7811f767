// The services answer a 422 with `description` = "field.path: what is wrong; other.path: ...";
// these helpers read that so a form can show each problem next to the field it names.
import type { ApiError } from "./errors";

/** "field.path: message" parts of a 422's description, by path (the first message per path). */
export function describedFields(error: ApiError | null | undefined): Record<string, string> {
  if (!error || error.status !== 422) return {};
  const found: Record<string, string> = { ...error.fields };
  for (const part of error.description.split("; ")) {
    const at = part.indexOf(": ");
    if (at <= 0) continue;
    const path = part.slice(0, at);
    if (!/^[A-Za-z0-9_.]+$/.test(path) || path in found) continue;
    found[path] = part.slice(at + 2);
  }
  return found;
}

/** The error for `name` (or anything under it, e.g. "limits.0.requests" for "limits.0"). */
export function fieldMessage(fields: Record<string, string>, name: string): string | undefined {
  return fields[name] ?? Object.entries(fields).find(([path]) => path.startsWith(`${name}.`))?.[1];
}

/** Whether some problem in `fields` is not shown by any of the form's `shown` fields. */
export function hasUnplacedField(fields: Record<string, string>, shown: readonly string[]): boolean {
  return Object.keys(fields).some((path) => !shown.some((name) => path === name || path.startsWith(`${name}.`)));
}
