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
export declare const ErrorCode: {
    readonly ParseError: -32700;
    readonly InvalidRequest: -32600;
    readonly MethodNotFound: -32601;
    readonly InvalidParams: -32602;
    readonly InternalError: -32603;
    readonly InstanceNotFound: -32001;
    readonly EnvironmentNotFound: -32002;
    readonly EnvironmentMalformed: -32003;
    readonly WrongAction: -32004;
    readonly EnvironmentNotAllowed: -32005;
    readonly LimitExceeded: -32006;
    readonly WorkerCrashed: -32007;
    readonly StepTimeout: -32008;
    readonly MissingDependency: -32009;
    readonly ReplyTooLarge: -32010;
};
/** A request got no reply within its timeout (client-side). */
export declare const TIMEOUT = -1;
/** The connection closed (or was closed) while a request was pending, or before it was sent. */
export declare const CONNECTION_CLOSED = -2;
/** The WebSocket could not be opened: refused handshake (401, 403, 503), no server, or a timeout. */
export declare const CONNECT_FAILED = -3;
/** What an error is about; `error` names the server's exception class or the client-side failure. */
export interface ErrorData {
    error?: string;
    subject?: unknown;
    [key: string]: unknown;
}
/** An error from a gymie server, or from talking to it. */
export declare class GymieError extends Error {
    /** The JSON-RPC error code (negative; see {@link ErrorCode}, {@link TIMEOUT}...). */
    readonly code: number;
    /** The error object's `data`: `{error, subject}` from a gymie server. */
    readonly data: ErrorData | undefined;
    constructor(code: number, message: string, data?: ErrorData);
}
/** No reply within the timeout; `code` is {@link TIMEOUT}, `data` `{error: "Timeout", method, timeout}`. */
export declare class GymieTimeoutError extends GymieError {
    constructor(message: string, data: ErrorData);
}
/**
 * The connection failed or closed. `code` is {@link CONNECT_FAILED} for a connection that never
 * opened and {@link CONNECTION_CLOSED} otherwise; `closeCode`/`reason` are the WebSocket's
 * (1006 for an abnormal close) and `status` the HTTP status of a refused handshake when known.
 */
export declare class GymieConnectionError extends GymieError {
    readonly closeCode: number | undefined;
    readonly reason: string;
    readonly status: number | undefined;
    constructor(code: typeof CONNECTION_CLOSED | typeof CONNECT_FAILED, message: string, details?: {
        closeCode?: number;
        reason?: string;
        status?: number;
    });
}
/** The error of a JSON-RPC error object as a {@link GymieError}. */
export declare function fromWire(error: unknown): GymieError;
