// Cursor paging as the lists with "Load more" use it (the calls lists, the activity feed): the
// first page loads when `deps` change, each "Load more" appends the page after the last one
// (the API's `nextCursor`), so rows already shown never move or repeat; `LoadMore` is what
// follows such a list.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./errors";
import { asApiError, Button, ErrorMessage, type Load, useLoad } from "./ui";

export interface CursorPage<T> {
  list: T[];
  nextCursor?: string | null;
}

export interface CursorPages<T> {
  load: Load<T[]>; // every row shown so far, once the first page is in
  more: boolean; // whether there is a next page
  busy: boolean; // a "Load more" is under way
  error: ApiError | null; // why the last "Load more" failed
  loadMore: () => void;
}

export function useCursorPages<T>(fetch: (cursor: string | undefined) => Promise<CursorPage<T>>, deps: unknown[]): CursorPages<T> {
  const [first] = useLoad(() => fetch(undefined), deps);
  const [older, setOlder] = useState<{ rows: T[]; next: string | null | undefined }>({ rows: [], next: undefined });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const query = useRef(0); // which query a "Load more" belongs to
  // a new query starts again from its first page (a page still coming for the old one is dropped)
  useEffect(() => {
    query.current += 1;
    setOlder({ rows: [], next: undefined });
    setError(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  const next = older.next !== undefined ? older.next : first.state === "ready" ? (first.data.nextCursor ?? null) : null;
  const loadMore = () => {
    if (!next || busy) return;
    const asked = query.current;
    setBusy(true);
    setError(null);
    fetch(next)
      .then(
        (page) => asked === query.current && setOlder((shown) => ({ rows: [...shown.rows, ...page.list], next: page.nextCursor ?? null })),
        (cause: unknown) => asked === query.current && setError(asApiError(cause)),
      )
      .finally(() => setBusy(false));
  };
  const load: Load<T[]> = first.state === "ready" ? { state: "ready", data: [...first.data.list, ...older.rows] } : first;
  return { load, more: Boolean(next), busy, error, loadMore };
}

/** The foot of a cursor-paged list, the same in every one: why the last "Load more" failed, and
 * the button while there is a next page. */
export function LoadMore<T>({ pages }: { pages: CursorPages<T> }) {
  return (
    <>
      <ErrorMessage error={pages.error} />
      {pages.more && (
        <div class="actions">
          <Button onClick={pages.loadMore} busy={pages.busy}>
            Load more
          </Button>
        </div>
      )}
    </>
  );
}
