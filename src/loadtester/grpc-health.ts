/**
 * The gRPC health check (grpc.health.v1.Health/Check) spoken directly over node:http2 in
 * plaintext, as `ghz --insecure` does: one message each way, so the wire format is small
 * enough to write out rather than pull in a gRPC library. A request frame is a 0 (not
 * compressed) byte, a 4-byte big-endian length and the protobuf HealthCheckRequest
 * (field 1, `service`, a string); the answer's HealthCheckResponse has field 1, `status`,
 * where 1 is SERVING. The outcome is `ok` only for grpc-status 0 with SERVING.
 */
import http2 from "node:http2";
import type { GrpcHealthTarget } from "./plan.ts";
import type { Send, SendResult } from "./run.ts";

export const HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";

/** gRPC status codes by number, for outcome classes (`grpc_unavailable`). */
const GRPC_CODES = [
  "ok", "cancelled", "unknown", "invalid_argument", "deadline_exceeded", "not_found", "already_exists",
  "permission_denied", "resource_exhausted", "failed_precondition", "aborted", "out_of_range",
  "unimplemented", "internal", "unavailable", "data_loss", "unauthenticated",
];

export const SERVING = 1;

export function encodeHealthRequest(service: string): Buffer {
  const name = Buffer.from(service, "utf8");
  const message = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

/** The `status` of a framed HealthCheckResponse; 0 (UNKNOWN) when the field is absent. */
export function decodeHealthStatus(framed: Buffer): number | undefined {
  if (framed.length < 5 || framed[0] !== 0) return undefined;
  const length = framed.readUInt32BE(1);
  const message = framed.subarray(5, 5 + length);
  if (message.length !== length) return undefined;
  let i = 0;
  let status = 0;
  while (i < message.length) {
    const [tag, afterTag] = readVarint(message, i);
    if (afterTag < 0) return undefined;
    const wire = tag & 7;
    if (wire === 0) {
      const [value, next] = readVarint(message, afterTag);
      if (next < 0) return undefined;
      if (tag >>> 3 === 1) status = value;
      i = next;
    } else if (wire === 2) {
      const [len, next] = readVarint(message, afterTag);
      if (next < 0) return undefined;
      i = next + len;
    } else {
      return undefined;
    }
  }
  return status;
}

export interface GrpcHealthSender {
  send: Send;
  close(): void;
}

export function createGrpcHealthSender(target: GrpcHealthTarget): GrpcHealthSender {
  const origin = `http://${target.authority}`;
  const request = encodeHealthRequest(target.service);
  let session: http2.ClientHttp2Session | undefined;
  const connect = (): http2.ClientHttp2Session => {
    if (session !== undefined && !session.closed && !session.destroyed) return session;
    const created = http2.connect(origin);
    // A broken connection fails its streams (counted); the next request opens a new one.
    created.on("error", () => undefined);
    created.on("close", () => {
      if (session === created) session = undefined;
    });
    created.unref();
    session = created;
    return created;
  };

  const send: Send = (signal, timedOut) =>
    new Promise<SendResult>((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = connect().request(
          { ":method": "POST", ":path": HEALTH_CHECK_PATH, "content-type": "application/grpc", te: "trailers", "user-agent": "aviary-loadtester" },
          { signal },
        );
      } catch (err) {
        finish({ outcome: timedOut() ? "timeout" : connectionOutcome(err as NodeJS.ErrnoException) });
        return;
      }
      const chunks: Buffer[] = [];
      let grpcStatus: string | undefined;
      let httpStatus = 0;
      stream.on("response", (headers) => {
        httpStatus = Number(headers[":status"] ?? 0);
        // A trailers-only answer (an error) carries grpc-status in the headers.
        if (headers["grpc-status"] !== undefined) grpcStatus = String(headers["grpc-status"]);
      });
      stream.on("trailers", (trailers) => {
        if (trailers["grpc-status"] !== undefined) grpcStatus = String(trailers["grpc-status"]);
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (err: NodeJS.ErrnoException) => finish({ outcome: timedOut() ? "timeout" : connectionOutcome(err) }));
      stream.on("end", () => {
        if (grpcStatus === undefined) {
          finish({ outcome: httpStatus >= 500 ? "http_5xx" : "grpc_no_status", ...(httpStatus > 0 ? { code: `http_${httpStatus}` } : {}) });
          return;
        }
        const code = Number(grpcStatus);
        if (code !== 0) {
          finish({ outcome: `grpc_${GRPC_CODES[code] ?? "unknown"}`, code: grpcStatus });
          return;
        }
        const status = decodeHealthStatus(Buffer.concat(chunks));
        finish({ outcome: status === SERVING ? "ok" : "not_serving", code: grpcStatus });
      });
      stream.end(request);
    });

  return {
    send,
    close: () => {
      session?.destroy();
      session = undefined;
    },
  };
}

function connectionOutcome(err: NodeJS.ErrnoException): string {
  // A stream cancelled because its connection failed carries the connection's error as its cause.
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  if (err.code === "ERR_HTTP2_STREAM_CANCEL" && cause?.code !== undefined) return connectionOutcome(cause);
  switch (err.code) {
    case "ECONNREFUSED":
      return "refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "dns";
    case "ECONNRESET":
    case "ERR_HTTP2_STREAM_CANCEL":
    case "ERR_HTTP2_GOAWAY_SESSION":
    case "ERR_HTTP2_SESSION_ERROR":
      return "reset";
    case "ABORT_ERR":
      return "timeout";
    default:
      return "other";
  }
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** [value, index after it], or index -1 when the varint runs off the end. */
function readVarint(buf: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = start; i < buf.length && shift < 35; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  return [0, -1];
}
