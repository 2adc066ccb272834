/** A server-sent-event client for tests: collects the events of one stream and waits for one that matches. */
import http from "node:http";

export interface SseEvent {
  event: string;
  data: unknown;
}

export interface SseStream {
  events: SseEvent[];
  waitFor(what: string, match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
}

export function openStream(url: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const events: SseEvent[] = [];
    const waiters: { match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
    const req = http.get(url, { headers: { accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered HTTP ${res.statusCode}`));
      let buffered = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf("\n\n")) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (name === undefined || data === undefined) continue;
          const e = { event: name, data: JSON.parse(data) as unknown };
          events.push(e);
          for (const w of [...waiters]) {
            if (w.match(e)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(e);
            }
          }
        }
      });
      resolve({
        events,
        waitFor(what, match, timeoutMs = 15_000) {
          const seen = events.find(match);
          if (seen) return Promise.resolve(seen);
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no ${what} on the stream within ${timeoutMs}ms; got: ${events.map((x) => x.event).join(", ")}`)), timeoutMs);
            waiters.push({ match, resolve: (e) => { clearTimeout(timer); ok(e); } });
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on("error", reject);
  });
}

export async function post(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { ok: boolean; message: string } }> {
  const res = await fetch(url, { method: "POST", headers, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: (await res.json()) as { ok: boolean; message: string } };
}
