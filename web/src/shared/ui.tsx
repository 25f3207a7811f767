// The building blocks every page uses, accessible by construction: real <label>s, <button>s,
// landmarks and live regions, so users and browser tests find things by their visible names.
// User-supplied strings are only ever rendered as text (JSX children), never as HTML.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "./errors";

export type Load<T> =
  | { state: "loading" }
  | { state: "ready"; data: T }
  | { state: "failed"; error: ApiError };

/** Runs `fetch` when `deps` change; `reload()` runs it again (e.g. after a change). */
export function useLoad<T>(fetch: () => Promise<T>, deps: unknown[] = []): [Load<T>, () => void] {
  const [load, setLoad] = useState<Load<T>>({ state: "loading" });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    fetch().then(
      (data) => live && setLoad({ state: "ready", data }),
      (error: unknown) => live && setLoad({ state: "failed", error: asApiError(error) }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return [load, reload];
}

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(0, "Error", error instanceof Error ? error.message : String(error));
}

/** Shows `children(data)` once loaded, a loading line before and the error if it failed. */
export function Loaded<T>({ load, label, children }: { load: Load<T>; label: string; children: (data: T) => ComponentChildren }) {
  if (load.state === "loading") return <Loading label={`Loading ${label}`} />;
  if (load.state === "failed") return <ErrorMessage error={load.error} />;
  return <>{children(load.data)}</>;
}

export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}…
    </p>
  );
}

export function ErrorMessage({ error }: { error: ApiError | null | undefined }) {
  if (!error) return null;
  return (
    <div class="alert alert-error" role="alert">
      {error.userMessage}
    </div>
  );
}

export function Notice({ kind = "info", children }: { kind?: "info" | "success" | "warning"; children: ComponentChildren }) {
  return (
    <div class={`alert alert-${kind}`} role={kind === "warning" ? "alert" : "status"}>
      {children}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children}
    </div>
  );
}

interface FieldProps {
  label: string;
  value: string;
  onValue: (value: string) => void;
  error?: string | undefined;
  hint?: ComponentChildren;
  type?: string;
  name?: string;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
  readOnly?: boolean;
}

interface ControlIds {
  id: string;
  "aria-invalid": "true" | undefined;
  "aria-describedby": string | undefined;
}

/** A label, the control, its hint and its error, wired together for assistive technology. */
function FieldFrame({
  label,
  error,
  hint,
  control,
}: {
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  control: (ids: ControlIds) => ComponentChildren;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class={`field${error ? " field-invalid" : ""}`}>
      <label for={id}>{label}</label>
      {control({ id, "aria-invalid": error ? "true" : undefined, "aria-describedby": described || undefined })}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function TextField({ label, value, onValue, error, hint, type = "text", ...rest }: FieldProps) {
  return (
    <FieldFrame
      label={label}
      error={error}
      hint={hint}
      control={(ids) => <input {...ids} type={type} value={value} onInput={(event) => onValue(event.currentTarget.value)} {...rest} />}
    />
  );
}

export function TextArea({ label, value, onValue, error, hint, rows = 12, readOnly }: FieldProps & { rows?: number }) {
  return (
    <FieldFrame
      label={label}
      error={error}
      hint={hint}
      control={(ids) => (
        <textarea {...ids} rows={rows} value={value} readOnly={readOnly} spellcheck={false} onInput={(event) => onValue(event.currentTarget.value)} />
      )}
    />
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField({
  label,
  value,
  options,
  onValue,
  error,
  hint,
}: {
  label: string;
  value: string;
  options: Option[];
  onValue: (value: string) => void;
  error?: string | undefined;
  hint?: ComponentChildren;
}) {
  return (
    <FieldFrame
      label={label}
      error={error}
      hint={hint}
      control={(ids) => (
        <select {...ids} value={value} onChange={(event) => onValue(event.currentTarget.value)}>
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

export function Checkbox({ label, checked, onChecked }: { label: string; checked: boolean; onChecked: (checked: boolean) => void }) {
  const id = useId();
  return (
    <div class="field field-check">
      <input id={id} type="checkbox" checked={checked} onChange={(event) => onChecked(event.currentTarget.checked)} />
      <label for={id}>{label}</label>
    </div>
  );
}

type ButtonProps = JSX.ButtonHTMLAttributes<HTMLButtonElement> & { kind?: "primary" | "secondary" | "danger"; busy?: boolean };

export function Button({ kind = "secondary", busy = false, children, disabled, type = "button", ...rest }: ButtonProps) {
  return (
    <button type={type} class={`button button-${kind}`} disabled={disabled || busy} aria-busy={busy ? "true" : undefined} {...rest}>
      {children}
    </button>
  );
}

/** A titled part of a page, announced as a region by its heading. */
/** A filter form's buttons, the same on every list with filters: Filter (submits the form)
 * and Clear. */
export function FilterActions({ onClear }: { onClear: () => void }) {
  return (
    <div class="actions">
      <Button type="submit" kind="primary">
        Filter
      </Button>
      <Button onClick={onClear}>Clear</Button>
    </div>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id}>
      <div class="card-head">
        <h2 id={id}>{title}</h2>
        {actions && <div class="card-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

/** Copies `text`; says so for screen readers too. */
export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return (
    <Button onClick={copy} aria-live="polite">
      {copied ? "Copied" : label}
    </Button>
  );
}

/** A destructive action behind a confirmation dialog (native <dialog>: focus trap and Escape). */
export function ConfirmButton({
  label,
  question,
  confirmLabel = label,
  onConfirm,
}: {
  label: string;
  question: string;
  confirmLabel?: string;
  onConfirm: () => Promise<void> | void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      dialog.current?.close();
    } catch (cause) {
      setError(asApiError(cause));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button kind="danger" onClick={() => dialog.current?.showModal()}>
        {label}
      </Button>
      <dialog ref={dialog} class="dialog" aria-label={label}>
        <p>{question}</p>
        <ErrorMessage error={error} />
        <div class="actions">
          <Button onClick={() => dialog.current?.close()}>Cancel</Button>
          <Button kind="danger" busy={busy} onClick={confirm}>
            {confirmLabel}
          </Button>
        </div>
      </dialog>
    </>
  );
}

/** Runs an action, tracking busy state and its error for the form that started it. */
export function useAction(): {
  busy: boolean;
  error: ApiError | null;
  run: (action: () => Promise<void>) => Promise<boolean>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (cause) {
      setError(asApiError(cause));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(null) };
}

export function formatDate(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}
