// Users: every account keymanager holds (GET /users), and the Create User form (a publisher
// unless the admin picks other roles).
import { useState } from "preact/hooks";
import { keymanager, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { Button, Empty, ErrorMessage, Loaded, Notice, Section, TextField, useAction, useLoad } from "../shared/ui";
import { describedFields, fieldMessage, hasUnplacedField } from "../shared/validation";
import { PORTAL, userPath } from "./links";
import { type Role, RolesField } from "./roles-field";

export function UsersListPage() {
  usePageTitle("Users", PORTAL);
  const [load, reload] = useLoad(() => unwrap(keymanager.GET("/api/keymanager/v1/users")));
  return (
    <>
      <PageHeader title="Users" />
      <CreateUser onCreated={reload} />
      <Section title="All users">
        <Loaded load={load} label="users">
          {(users) =>
            users.list.length === 0 ? (
              <Empty title="No users" />
            ) : (
              <div class="table-wrap">
                <table>
                  <caption class="muted">{users.count} users</caption>
                  <thead>
                    <tr>
                      <th scope="col">Username</th>
                      <th scope="col">Roles</th>
                      <th scope="col">Status</th>
                    </tr>
                  </thead>
                  <tbody>
                    {users.list.map((user) => (
                      <tr key={user.username}>
                        <td>
                          <Link to={userPath(user.username)}>{user.username}</Link>
                        </td>
                        <td>{user.roles.join(", ")}</td>
                        <td>
                          {user.disabled ? <span class="badge badge-warning">Disabled</span> : <span class="badge badge-published">Enabled</span>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Loaded>
      </Section>
    </>
  );
}

function CreateUser({ onCreated }: { onCreated: () => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [roles, setRoles] = useState<Role[]>(["publisher"]);
  const [created, setCreated] = useState<string | null>(null);
  const action = useAction();
  const fields = describedFields(action.error);
  const taken = action.error?.status === 409;
  const submit = async (event: Event) => {
    event.preventDefault();
    setCreated(null);
    const ok = await action.run(async () => {
      const user = await unwrap(keymanager.POST("/api/keymanager/v1/users", { body: { username: username.trim(), password, roles } }));
      setCreated(user.username);
    });
    if (ok) {
      setUsername("");
      setPassword("");
      setRoles(["publisher"]);
      onCreated();
    }
  };
  const showAlert = action.error && !taken && (action.error.status !== 422 || hasUnplacedField(fields, ["username", "password", "roles"]));
  return (
    <Section title="Create User">
      <form class="form" onSubmit={submit} aria-label="Create User" noValidate>
        <TextField
          label="Username"
          value={username}
          onValue={setUsername}
          error={fieldMessage(fields, "username") ?? (taken ? action.error?.userMessage : undefined)}
          hint="3 to 64 letters, digits or . _ @ -"
          autoComplete="off"
          required
        />
        <TextField
          label="Password"
          type="password"
          value={password}
          onValue={setPassword}
          error={fieldMessage(fields, "password")}
          hint="At least 8 characters; give it to the user, who can change it under Account."
          autoComplete="new-password"
          required
        />
        <RolesField roles={roles} onRoles={setRoles} error={fieldMessage(fields, "roles")} />
        {showAlert && <ErrorMessage error={action.error} />}
        {created && (
          <Notice kind="success">
            User <Link to={userPath(created)}>{created}</Link> was created.
          </Notice>
        )}
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            Create User
          </Button>
        </div>
      </form>
    </Section>
  );
}
