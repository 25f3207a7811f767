// Sign up (POST /signup, no token): a subscriber account, then Sign in with it.
import { useState } from "preact/hooks";
import { devportal, unwrap } from "../shared/api";
import { Link, usePageTitle } from "../shared/portal";
import { Button, ErrorMessage, Notice, TextField, useAction } from "../shared/ui";

export function SignUpPage() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  usePageTitle("Sign up", "Developer Portal");
  const submit = async (event: Event) => {
    event.preventDefault();
    await action.run(async () => {
      const account = await unwrap(devportal.POST("/api/devportal/v1/signup", { body: { username, password } }));
      setDone(account.username);
    });
  };
  if (done !== null) {
    return (
      <div class="signin">
        <h1>Sign up</h1>
        <Notice kind="success">
          Your account <strong>{done}</strong> is ready.
        </Notice>
        <p>
          <Link to="/">Sign in</Link> with it to browse the APIs.
        </p>
      </div>
    );
  }
  const error = action.error;
  const fieldless = error && !error.fieldError("username") && !error.fieldError("password") ? error : null;
  return (
    <div class="signin">
      <h1>Sign up to the Developer Portal</h1>
      <form onSubmit={submit} class="form" aria-label="Sign up">
        <TextField
          label="Username"
          value={username}
          onValue={setUsername}
          autoComplete="username"
          required
          error={error?.status === 409 ? error.userMessage : error?.fieldError("username")}
        />
        <TextField
          label="Password"
          type="password"
          value={password}
          onValue={setPassword}
          autoComplete="new-password"
          required
          error={error?.fieldError("password")}
        />
        {fieldless?.status !== 409 && <ErrorMessage error={fieldless} />}
        <Button kind="primary" type="submit" busy={action.busy}>
          Sign up
        </Button>
      </form>
      <p class="signin-more">
        Have an account? <Link to="/">Sign in</Link>
      </p>
    </div>
  );
}
