// The signed-in user's own account: change their password (keymanager PUT /users/me/password).
// The answer is a new token and every older one ends, so the session switches to the new one.
import { useState } from "preact/hooks";
import { keymanager, unwrap } from "./api";
import { PageHeader, usePageTitle } from "./portal";
import * as session from "./session";
import { Button, ErrorMessage, Notice, Section, TextField, useAction } from "./ui";
import { describedFields, fieldMessage, hasUnplacedField } from "./validation";

export function AccountPage({ portal }: { portal: string }) {
  usePageTitle("Account", portal);
  const claims = session.claims();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [changed, setChanged] = useState(false);
  const action = useAction();
  const fields = describedFields(action.error);
  // 403: the current password is wrong; it belongs next to that field
  const currentError = action.error?.status === 403 ? action.error.userMessage : fieldMessage(fields, "currentPassword");
  const nextError = fieldMessage(fields, "newPassword");
  const submit = async (event: Event) => {
    event.preventDefault();
    setChanged(false);
    const ok = await action.run(async () => {
      const answer = await unwrap(
        keymanager.PUT("/api/keymanager/v1/users/me/password", { body: { currentPassword: current, newPassword: next } }),
      );
      session.signIn(answer.access_token);
    });
    if (ok) {
      setCurrent("");
      setNext("");
      setChanged(true);
    }
  };
  const unplaced = action.error && action.error.status !== 403 && (action.error.status !== 422 || hasUnplacedField(fields, ["currentPassword", "newPassword"]));
  return (
    <>
      <PageHeader title="Account" />
      <Section title="Change password">
        <p class="muted">
          Signed in as <strong>{claims?.sub ?? "—"}</strong> ({claims?.roles.join(", ") || "no roles"}). Changing the password signs
          out your other sessions; this one continues.
        </p>
        <form class="form" onSubmit={submit} aria-label="Change password">
          <TextField
            label="Current password"
            type="password"
            value={current}
            onValue={setCurrent}
            error={currentError}
            autoComplete="current-password"
            required
          />
          <TextField
            label="New password"
            type="password"
            value={next}
            onValue={setNext}
            error={nextError}
            hint="At least 8 characters."
            autoComplete="new-password"
            required
          />
          {unplaced && <ErrorMessage error={action.error} />}
          {changed && <Notice kind="success">Your password was changed.</Notice>}
          <div class="actions">
            <Button kind="primary" type="submit" busy={action.busy}>
              Change password
            </Button>
          </div>
        </form>
      </Section>
    </>
  );
}
