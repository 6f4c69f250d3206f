/**
 * Errors: one class, {@link GymieError}, for everything a call can fail with.
 *
 * - Server errors carry the server's JSON-RPC `code` (e.g. -32002) and `data`
 *   (`data.error` is the server's exception class, e.g. "EnvironmentNotFound";
 *   `data.subject` what it is about).
 * - Client-side failures use codes outside JSON-RPC's range, with `data.error` naming them too:
 *   {@link TIMEOUT} ({@link GymieTimeoutError}) and {@link CONNECTION_CLOSED} /
 *   {@link CONNECT_FAILED} ({@link GymieConnectionError}).
 */

/** Codes of the server's errors (JSON-RPC 2.0's own and gymie's). */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  InstanceNotFound: -32001,
  EnvironmentNotFound: -32002,
  EnvironmentMalformed: -32003,
  WrongAction: -32004,
  EnvironmentNotAllowed: -32005,
  LimitExceeded: -32006,
  WorkerCrashed: -32007,
  StepTimeout: -32008,
  MissingDependency: -32009,
  ReplyTooLarge: -32010,
} as const;

/** A request got no reply within its timeout (client-side). */
export const TIMEOUT = -1;
/** The connection closed (or was closed) while a request was pending, or before it was sent. */
export const CONNECTION_CLOSED = -2;
/** The WebSocket could not be opened: refused handshake (401, 403, 503), no server, or a timeout. */
export const CONNECT_FAILED = -3;

/** What an error is about; `error` names the server's exception class or the client-side failure. */
export interface ErrorData {
  error?: string;
  subject?: unknown;
  [key: string]: unknown;
}

/** An error from a gymie server, or from talking to it. */
export class GymieError extends Error {
  /** The JSON-RPC error code (negative; see {@link ErrorCode}, {@link TIMEOUT}...). */
  readonly code: number;
  /** The error object's `data`: `{error, subject}` from a gymie server. */
  readonly data: ErrorData | undefined;

  constructor(code: number, message: string, data?: ErrorData) {
    super(message);
    this.name = "GymieError";
    this.code = code;
    this.data = data;
  }
}

/** No reply within the timeout; `code` is {@link TIMEOUT}, `data` `{error: "Timeout", method, timeout}`. */
export class GymieTimeoutError extends GymieError {
  constructor(message: string, data: ErrorData) {
    super(TIMEOUT, message, { error: "Timeout", ...data });
    this.name = "GymieTimeoutError";
  }
}

/**
 * The connection failed or closed. `code` is {@link CONNECT_FAILED} for a connection that never
 * opened and {@link CONNECTION_CLOSED} otherwise; `closeCode`/`reason` are the WebSocket's
 * (1006 for an abnormal close) and `status` the HTTP status of a refused handshake when known.
 */
export class GymieConnectionError extends GymieError {
  readonly closeCode: number | undefined;
  readonly reason: string;
  readonly status: number | undefined;

  constructor(
    code: typeof CONNECTION_CLOSED | typeof CONNECT_FAILED,
    message: string,
    details: { closeCode?: number; reason?: string; status?: number } = {},
  ) {
    const error = code === CONNECT_FAILED ? "ConnectFailed" : "ConnectionClosed";
    super(code, message, { error, ...details });
    this.name = "GymieConnectionError";
    this.closeCode = details.closeCode;
    this.reason = details.reason ?? "";
    this.status = details.status;
  }
}

/** The error of a JSON-RPC error object as a {@link GymieError}. */
export function fromWire(error: unknown): GymieError {
  const e = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>;
  const code = typeof e.code === "number" ? e.code : ErrorCode.InternalError;
  const message = typeof e.message === "string" ? e.message : "Unknown server error";
  const data = typeof e.data === "object" && e.data !== null ? (e.data as ErrorData) : undefined;
  return new GymieError(code, message, data);
}
