// Signing Keys: the public keys that verify management and OAuth2 access tokens (GET /jwks),
// and rotation (POST /signing-keys/rotate). A normal rotation keeps the previous key verifying
// until the tokens it signed expired; an emergency one withdraws it at once, which signs
// everyone out, this admin included.
import { useState } from "preact/hooks";
import type { components } from "../api/generated/keymanager";
import { keymanager, unwrap } from "../shared/api";
import { PageHeader, usePageTitle } from "../shared/portal";
import * as session from "../shared/session";
import { ConfirmButton, Empty, Loaded, Notice, Section, formatDate, useLoad } from "../shared/ui";
import { PORTAL } from "./links";

type Rotated = components["schemas"]["RotatedKey"];

interface PublicKey {
  kid: string;
  kty: string;
  crv: string;
  alg: string;
}

function publicKeys(jwks: Record<string, unknown>): PublicKey[] {
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as Record<string, unknown>[]) : [];
  const text = (value: unknown) => (typeof value === "string" ? value : "—");
  return keys.map((key) => ({ kid: text(key.kid), kty: text(key.kty), crv: text(key.crv), alg: text(key.alg) }));
}

/** The kid in the header of the token this tab signed in with. */
function sessionKid(): string | null {
  const header = session.token()?.split(".")[0];
  if (!header) return null;
  try {
    const decoded = JSON.parse(atob(header.replace(/-/g, "+").replace(/_/g, "/"))) as { kid?: unknown };
    return typeof decoded.kid === "string" ? decoded.kid : null;
  } catch {
    return null;
  }
}

export function SigningKeysPage() {
  usePageTitle("Signing Keys", PORTAL);
  const [load, reload] = useLoad(() => unwrap(keymanager.GET("/api/keymanager/v1/jwks")));
  const [rotated, setRotated] = useState<Rotated | null>(null);
  const rotate = async (emergency: boolean) => {
    const answer = await unwrap(keymanager.POST("/api/keymanager/v1/signing-keys/rotate", { body: { emergency } }));
    setRotated(answer);
    reload();
  };
  const mine = sessionKid();
  return (
    <>
      <PageHeader title="Signing Keys">
        <ConfirmButton
          label="Rotate signing key"
          question="Rotate the signing key? New tokens are signed with a new key at once. The previous key stays published and keeps verifying the tokens it already signed until they expire (the longest token lifetime plus a minute's leeway), so nobody is signed out."
          confirmLabel="Rotate"
          onConfirm={() => rotate(false)}
        />
        <ConfirmButton
          label="Emergency rotation"
          question="Only if the signing key may have leaked: the previous key is withdrawn at once, so every token it signed stops working (keymanager and the gateways refuse them at once, publisher and devportal within the JWKS refresh interval). Everyone, you included, signs in again, and OAuth2 access tokens must be fetched again."
          confirmLabel="Rotate now and sign everyone out"
          onConfirm={() => rotate(true)}
        />
      </PageHeader>
      <p class="muted">
        keymanager signs management and OAuth2 access tokens with one active Ed25519 key; the services verify them against these public
        keys. Rotate regularly, or at once if the key may have leaked.
      </p>
      {rotated && (
        <Notice kind="success">
          New tokens are signed with key <code>{rotated.kid}</code>.
          {rotated.previousKid && (
            <>
              {" "}
              The previous key <code>{rotated.previousKid}</code> verifies until {formatDate(rotated.previousValidUntil)}.
            </>
          )}
        </Notice>
      )}
      <Section title="Public keys">
        <Loaded load={load} label="signing keys">
          {(jwks) => {
            const keys = publicKeys(jwks);
            return keys.length === 0 ? (
              <Empty title="No public keys yet">keymanager publishes its first key when it starts.</Empty>
            ) : (
              <div class="table-wrap">
                <table>
                  <caption class="muted">The JWKS (GET /api/keymanager/v1/jwks)</caption>
                  <thead>
                    <tr>
                      <th scope="col">Key id (kid)</th>
                      <th scope="col">Algorithm</th>
                      <th scope="col">Your session</th>
                    </tr>
                  </thead>
                  <tbody>
                    {keys.map((key) => (
                      <tr key={key.kid}>
                        <td>
                          <code>{key.kid}</code>
                        </td>
                        <td>
                          {key.alg} ({key.kty} {key.crv})
                        </td>
                        <td>{key.kid === mine ? "signed your session's token" : "—"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            );
          }}
        </Loaded>
      </Section>
    </>
  );
}
