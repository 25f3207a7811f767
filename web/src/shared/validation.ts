// Placing an API error's field problems in a form: the services name them in `fields`
// (path -> message) on every 422 and on conflicts about a field (e.g. a taken context).
import { type ApiError, fieldMessage } from "./errors";

export { fieldMessage };

/** The problems `error` names, by field path (none for errors about no field). */
export function describedFields(error: ApiError | null | undefined): Record<string, string> {
  return error ? error.fields : {};
}

/** Whether some problem in `fields` is not shown by any of the form's `shown` fields. */
export function hasUnplacedField(fields: Record<string, string>, shown: readonly string[]): boolean {
  return Object.keys(fields).some((path) => !shown.some((name) => path === name || path.startsWith(`${name}.`)));
}
