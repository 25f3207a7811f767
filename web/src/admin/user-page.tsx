// One user, for an admin: change roles, disable/enable, reset the password, delete. Each of
// these ends the user's tokens. keymanager keeps the last enabled admin (409, shown here).
import { useState } from "preact/hooks";
import type { components } from "../api/generated/keymanager";
import { keymanager, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { navigate } from "../shared/router";
import * as session from "../shared/session";
import { Button, ConfirmButton, ErrorMessage, Loaded, Notice, Section, TextField, formatDate, useAction, useLoad } from "../shared/ui";
import { describedFields, fieldMessage } from "../shared/validation";
import { PORTAL } from "./links";
import { type Role, RolesField } from "./roles-field";

type User = components["schemas"]["UserOut"];

export function UserPage({ username }: { username: string }) {
  usePageTitle(username, PORTAL);
  // keymanager has no GET /users/{username}: the admin's list has every account
  const [load, reload] = useLoad(async () => {
    const users = await unwrap(keymanager.GET("/api/keymanager/v1/users"));
    return users.list.find((user) => user.username === username) ?? null;
  }, [username]);
  return (
    <>
      <p>
        <Link to="/users">← Users</Link>
      </p>
      <Loaded load={load} label="the user">
        {(user) =>
          user === null ? (
            <>
              <PageHeader title={username} />
              <Notice kind="warning">There is no user named {username}.</Notice>
            </>
          ) : (
            <ManageUser user={user} onChanged={reload} />
          )
        }
      </Loaded>
    </>
  );
}

function ManageUser({ user, onChanged }: { user: User; onChanged: () => void }) {
  const self = session.claims()?.sub === user.username;
  const path = { params: { path: { username: user.username } } };
  const status = useAction();
  const setDisabled = (disabled: boolean) =>
    status.run(async () => {
      await unwrap(keymanager.PATCH("/api/keymanager/v1/users/{username}", { ...path, body: { disabled } }));
      onChanged();
    });
  const remove = async () => {
    await unwrap(keymanager.DELETE("/api/keymanager/v1/users/{username}", path));
    navigate("/users");
  };
  return (
    <>
      <PageHeader title={user.username}>
        <ConfirmButton
          label="Delete user"
          question={`Delete ${user.username}? Their tokens stop working at once and the name is never given out again.`}
          confirmLabel="Delete"
          onConfirm={remove}
        />
      </PageHeader>
      {self && <Notice>This is your own account: you cannot remove your admin role, disable or delete yourself.</Notice>}
      <div class="grid">
        <Section title="Access">
          <dl class="facts">
            <dt>Roles</dt>
            <dd>{user.roles.join(", ")}</dd>
            <dt>Status</dt>
            <dd>{user.disabled ? <span class="badge badge-warning">Disabled</span> : <span class="badge badge-published">Enabled</span>}</dd>
            <dt>Created</dt>
            <dd>{formatDate(user.createdTime)}</dd>
          </dl>
          <p class="muted">A disabled user cannot sign in, and their tokens stop working.</p>
          <div class="actions">
            {user.disabled ? (
              <Button kind="primary" busy={status.busy} onClick={() => setDisabled(false)}>
                Enable user
              </Button>
            ) : (
              <Button kind="danger" busy={status.busy} onClick={() => setDisabled(true)}>
                Disable user
              </Button>
            )}
          </div>
          <ErrorMessage error={status.error} />
        </Section>
        <ChangeRoles user={user} onChanged={onChanged} />
        <ResetPassword username={user.username} />
      </div>
    </>
  );
}

function ChangeRoles({ user, onChanged }: { user: User; onChanged: () => void }) {
  const [roles, setRoles] = useState<Role[]>(user.roles);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const fields = describedFields(action.error);
  const submit = async (event: Event) => {
    event.preventDefault();
    setSaved(false);
    const ok = await action.run(async () => {
      await unwrap(
        keymanager.PATCH("/api/keymanager/v1/users/{username}", { params: { path: { username: user.username } }, body: { roles } }),
      );
    });
    if (ok) {
      setSaved(true);
      onChanged();
    }
  };
  const rolesError = fieldMessage(fields, "roles");
  return (
    <Section title="Change roles">
      <form class="form" onSubmit={submit} aria-label="Change roles" noValidate>
        <RolesField roles={roles} onRoles={setRoles} error={rolesError} />
        {!rolesError && <ErrorMessage error={action.error} />}
        {saved && <Notice kind="success">Roles saved; the user signs in again to use them.</Notice>}
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            Save roles
          </Button>
        </div>
      </form>
    </Section>
  );
}

function ResetPassword({ username }: { username: string }) {
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const action = useAction();
  const fields = describedFields(action.error);
  const submit = async (event: Event) => {
    event.preventDefault();
    setDone(false);
    const ok = await action.run(async () => {
      await unwrap(keymanager.POST("/api/keymanager/v1/users/{username}/password", { params: { path: { username } }, body: { password } }));
    });
    if (ok) {
      setPassword("");
      setDone(true);
    }
  };
  const passwordError = fieldMessage(fields, "password");
  return (
    <Section title="Reset password">
      <form class="form" onSubmit={submit} aria-label="Reset password" noValidate>
        <TextField
          label="New password"
          type="password"
          value={password}
          onValue={setPassword}
          error={passwordError}
          hint="At least 8 characters. The user's tokens stop working."
          autoComplete="new-password"
          required
        />
        {!passwordError && <ErrorMessage error={action.error} />}
        {done && <Notice kind="success">The password was reset.</Notice>}
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            Reset password
          </Button>
        </div>
      </form>
    </Section>
  );
}
