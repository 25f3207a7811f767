// Swagger UI reads an answer's whole body before it shows it; a `"stream": true` answer should
// be seen as it arrives. The console's fetch hands Swagger UI one copy of the body and reads
// the other one chunk by chunk for the "Streamed response" region.

export interface StreamWatcher {
  start(): void;
  chunk(text: string): void;
  end(): void;
}

function isEventStream(response: Response): boolean {
  return (response.headers.get("content-type") ?? "").includes("text/event-stream");
}

async function follow(body: ReadableStream<Uint8Array>, watcher: StreamWatcher): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      watcher.chunk(decoder.decode(value, { stream: true }));
    }
  } finally {
    watcher.end();
  }
}

/** A fetch that shows an event stream's chunks live and still returns the whole answer. */
export function teeingFetch(watcher: StreamWatcher, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (!response.body || !isEventStream(response)) return response;
    const [forConsole, forWatcher] = response.body.tee();
    watcher.start();
    void follow(forWatcher, watcher).catch(() => watcher.end());
    return new Response(forConsole, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
