// The Create AI/LLM API wizard: step 1 picks the AI Service Provider and its version, step 2
// names the API; then its overview opens. The API's own validation errors show by the field.
import { useState } from "preact/hooks";
import { publisher, unwrap } from "../shared/api";
import { PageHeader, usePageTitle } from "../shared/portal";
import { navigate } from "../shared/router";
import { Button, Empty, ErrorMessage, Loaded, SelectField, TextField, useAction, useLoad } from "../shared/ui";
import { apiPath, defaultEndpoint, namesAnyField, type Vendor } from "./model";

export function CreateApi() {
  usePageTitle("Create AI/LLM API", "Publisher Portal");
  const [load] = useLoad(() => unwrap(publisher.GET("/api/publisher/v1/ai-vendors")));
  const [chosen, setChosen] = useState<Vendor | null>(null);
  return (
    <>
      <PageHeader title="Create AI/LLM API" />
      <Loaded load={load} label="AI service providers">
        {(vendors) =>
          chosen ? (
            <ApiDetails vendor={chosen} onBack={() => setChosen(null)} />
          ) : (
            <ChooseProvider vendors={vendors.list} onNext={setChosen} />
          )
        }
      </Loaded>
    </>
  );
}

function ChooseProvider({ vendors, onNext }: { vendors: Vendor[]; onNext: (vendor: Vendor) => void }) {
  const names = [...new Set(vendors.map((vendor) => vendor.name))];
  const [name, setName] = useState(names[0] ?? "");
  const versions = vendors.filter((vendor) => vendor.name === name);
  const [version, setVersion] = useState(versions[0]?.version ?? "");
  const selected = versions.find((vendor) => vendor.version === version) ?? versions[0];
  const pickName = (value: string) => {
    setName(value);
    setVersion(vendors.find((vendor) => vendor.name === value)?.version ?? "");
  };
  if (names.length === 0) return <Empty title="No AI service providers">An admin adds them in the Admin Portal.</Empty>;
  return (
    <form
      class="form card"
      onSubmit={(event) => {
        event.preventDefault();
        if (selected) onNext(selected);
      }}
    >
      <h2>Step 1 of 2: AI Service Provider</h2>
      <SelectField
        label="AI Service Provider"
        value={name}
        onValue={pickName}
        options={names.map((each) => ({ value: each, label: each }))}
        hint="The built-in vendors and the custom ones your admins added."
      />
      <SelectField
        label="Version"
        value={selected?.version ?? ""}
        onValue={setVersion}
        options={versions.map((vendor) => ({ value: vendor.version, label: vendor.version }))}
      />
      {selected?.description && <p class="muted">{selected.description}</p>}
      <div class="actions">
        <Button kind="secondary" onClick={() => navigate("/")}>
          Cancel
        </Button>
        <Button kind="primary" type="submit" disabled={!selected}>
          Next
        </Button>
      </div>
    </form>
  );
}

const FIELDS = ["name", "context", "version", "endpoints"];

function ApiDetails({ vendor, onBack }: { vendor: Vendor; onBack: () => void }) {
  const [name, setName] = useState("");
  const [context, setContext] = useState("");
  const [version, setVersion] = useState("");
  const [production, setProduction] = useState(defaultEndpoint(vendor));
  const [sandbox, setSandbox] = useState(defaultEndpoint(vendor));
  const action = useAction();
  const error = action.error;
  const create = async (event: Event) => {
    event.preventDefault();
    await action.run(async () => {
      const api = await unwrap(
        publisher.POST("/api/publisher/v1/apis", {
          body: {
            name,
            context,
            version,
            description: "",
            aiVendor: { name: vendor.name, version: vendor.version },
            endpoints: { production: production.trim() || null, sandbox: sandbox.trim() || null },
          },
        }),
      );
      navigate(apiPath(api));
    });
  };
  const endpointsError = error?.fields["endpoints"];
  return (
    <form class="form card" onSubmit={create} noValidate>
      <h2>Step 2 of 2: API details</h2>
      <p class="muted">
        AI Service Provider: <strong>{vendor.name}</strong> {vendor.version}
      </p>
      <TextField label="Name" value={name} onValue={setName} error={error?.fieldError("name")} required placeholder="MistralAIAPI" />
      <TextField
        label="Context"
        value={context}
        onValue={setContext}
        error={error?.fieldError("context")}
        required
        placeholder="mistralaiapi"
        hint={
          <>
            The API's root path at the gateway; with its version it must be unique. Put <code>{"{version}"}</code> in it to
            have the version first: <code>{"{version}/mistralaiapi"}</code> is invoked as <code>/0.0.2/mistralaiapi</code>.
          </>
        }
      />
      <TextField label="Version" value={version} onValue={setVersion} error={error?.fieldError("version")} required placeholder="0.0.2" />
      <TextField
        label="Production endpoint URL"
        type="url"
        value={production}
        onValue={setProduction}
        error={error?.fieldError("endpoints.production") ?? endpointsError}
        hint="Where the provider's API is; you can change it, and attach its API key, on the Endpoints page."
      />
      <TextField
        label="Sandbox endpoint URL"
        type="url"
        value={sandbox}
        onValue={setSandbox}
        error={error?.fieldError("endpoints.sandbox")}
      />
      {!namesAnyField(error, FIELDS) && <ErrorMessage error={error} />}
      <div class="actions">
        <Button onClick={onBack}>Back</Button>
        <Button kind="primary" type="submit" busy={action.busy}>
          Create
        </Button>
      </div>
    </form>
  );
}
