// The three roles as checkboxes in a fieldset named "Roles" (a user needs at least one).
import { Checkbox } from "../shared/ui";

export type Role = "admin" | "publisher" | "subscriber";
export const ROLES: Role[] = ["publisher", "subscriber", "admin"];

export function RolesField({ roles, onRoles, error }: { roles: Role[]; onRoles: (roles: Role[]) => void; error?: string | undefined }) {
  const toggle = (role: Role, on: boolean) => onRoles(ROLES.filter((each) => (each === role ? on : roles.includes(each))));
  return (
    <fieldset class={error ? "field-invalid" : undefined}>
      <legend>Roles</legend>
      {ROLES.map((role) => (
        <Checkbox key={role} label={role} checked={roles.includes(role)} onChecked={(on) => toggle(role, on)} />
      ))}
      {error && <p class="field-error">{error}</p>}
    </fieldset>
  );
}
