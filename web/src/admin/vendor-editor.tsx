// Add or edit a custom AI vendor as JSON. The text is parsed here first (a syntax error is
// shown at once, next to the field); the API then checks the definition and its 422 (what the
// gateway could not use) or 409 (a taken name, a built-in) is shown there too.
import { useState } from "preact/hooks";
import type { components } from "../api/generated/publisher";
import { publisher, unwrap } from "../shared/api";
import { Link, PageHeader, usePageTitle } from "../shared/portal";
import { navigate } from "../shared/router";
import { Button, ErrorMessage, Loaded, Notice, TextArea, useAction, useLoad } from "../shared/ui";
import { PORTAL, vendorPath } from "./links";
import { parseDefinition, pretty, VENDOR_TEMPLATE } from "./vendor-template";

type Definition = components["schemas"]["VendorDefinition"];

const HINT = "name, version, auth, metadata, stream, defaultHeaders, callerHeaders and apiDefinition (an OpenAPI document listing the calls the gateway forwards), as in the README's \"AI vendors are data\".";

export function NewVendorPage() {
  usePageTitle("Add AI vendor", PORTAL);
  return (
    <VendorEditor
      title="Add AI vendor"
      initial={pretty(VENDOR_TEMPLATE)}
      submitLabel="Create vendor"
      back="/"
      save={async (definition) => {
        const created = await unwrap(publisher.POST("/api/publisher/v1/ai-vendors", { body: definition }));
        navigate(vendorPath(created.name, created.version));
      }}
    />
  );
}

export function EditVendorPage({ name, version }: { name: string; version: string }) {
  usePageTitle(`Edit ${name} ${version}`, PORTAL);
  const [load] = useLoad(
    () => unwrap(publisher.GET("/api/publisher/v1/ai-vendors/{name}/{version}", { params: { path: { name, version } } })),
    [name, version],
  );
  return (
    <Loaded load={load} label="the AI vendor">
      {({ builtIn, ...definition }) =>
        builtIn ? (
          <Notice kind="warning">Built-in vendors are read-only.</Notice>
        ) : (
          <VendorEditor
            title={`Edit ${name} ${version}`}
            initial={pretty(definition)}
            submitLabel="Save vendor"
            back={vendorPath(name, version)}
            save={async (changed) => {
              await unwrap(
                publisher.PUT("/api/publisher/v1/ai-vendors/{name}/{version}", { params: { path: { name, version } }, body: changed }),
              );
              navigate(vendorPath(name, version));
            }}
          />
        )
      }
    </Loaded>
  );
}

function VendorEditor({
  title,
  initial,
  submitLabel,
  back,
  save,
}: {
  title: string;
  initial: string;
  submitLabel: string;
  back: string;
  save: (definition: Definition) => Promise<void>;
}) {
  const [text, setText] = useState(initial);
  const [syntax, setSyntax] = useState<string | null>(null);
  const action = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    action.clear();
    const parsed = parseDefinition(text);
    if ("error" in parsed) {
      setSyntax(parsed.error);
      return;
    }
    setSyntax(null);
    await action.run(() => save(parsed.value as unknown as Definition));
  };
  // the definition is one field: the API's complaint about any part of it belongs next to it
  const apiError = action.error && [400, 409, 422].includes(action.error.status) ? action.error.userMessage : undefined;
  return (
    <>
      <p>
        <Link to={back}>← Back</Link>
      </p>
      <PageHeader title={title} />
      <form class="form form-full" onSubmit={submit} aria-label={title} noValidate>
        <TextArea
          label="Vendor definition (JSON)"
          value={text}
          onValue={(value) => {
            setText(value);
            setSyntax(null);
          }}
          error={syntax ?? apiError}
          hint={HINT}
          rows={24}
        />
        {!apiError && <ErrorMessage error={action.error} />}
        <div class="actions">
          <Button kind="primary" type="submit" busy={action.busy}>
            {submitLabel}
          </Button>
          <Button onClick={() => navigate(back)}>Cancel</Button>
        </div>
      </form>
    </>
  );
}
