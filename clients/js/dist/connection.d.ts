/**
 * One WebSocket to a gymie server speaking JSON-RPC 2.0: requests are pipelined (many in flight)
 * and replies matched by id; every request has a timeout; a close rejects what is pending.
 *
 * Uses `globalThis.WebSocket` where there is one (browsers, Node ≥ 22), else the `ws` package,
 * imported only then. The token goes in an `Authorization: Bearer` header with `ws`, and as the
 * `?token=` query parameter with a browser-style WebSocket (which cannot set headers).
 */
import { type Encoding } from "./codec.js";
import { GymieConnectionError } from "./errors.js";
/** The WebSocket subprotocol of the msgpack encoding. */
export declare const MSGPACK_SUBPROTOCOL = "gymie.msgpack";
/** Default timeout of the handshake and of each request, in milliseconds. */
export declare const DEFAULT_TIMEOUT = 30000;
/** What this client needs of a WebSocket: the browser API, which `ws` implements too. */
export interface WebSocketLike {
    binaryType: string;
    readonly protocol: string;
    readonly readyState: number;
    send(data: string | Uint8Array): void;
    close(code?: number, reason?: string): void;
    onopen: ((event: unknown) => void) | null;
    onmessage: ((event: {
        data: unknown;
    }) => void) | null;
    onerror: ((event: unknown) => void) | null;
    onclose: ((event: {
        code: number;
        reason: string;
    }) => void) | null;
}
/** A WebSocket class: the browser's, `ws`'s, or any with the same API. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: object) => WebSocketLike;
/** Options of {@link Connection.open}. */
export interface ConnectionOptions {
    /** The server's token (`--token`). */
    token?: string;
    /** `"msgpack"` (default) or `"json"`. A server without the msgpack subprotocol gets JSON. */
    encoding?: Encoding;
    /** Milliseconds for the handshake and, by default, each request; 0 or Infinity: no limit. Default 30 000. */
    timeout?: number;
    /** The WebSocket class to use instead of the global one or `ws`. */
    WebSocket?: WebSocketConstructor;
    /** Extra handshake headers (only with `ws`, which can send headers). */
    headers?: Record<string, string>;
}
/** Per-call options. */
export interface CallOptions {
    /** Milliseconds to wait for this reply (the connection's timeout by default); 0 or Infinity: no limit. */
    timeout?: number;
}
/** A JSON-RPC connection to a gymie server; open one with {@link Connection.open}. */
export declare class Connection {
    /** The encoding in use (the server may have refused msgpack). */
    readonly encoding: Encoding;
    /** The default request timeout in milliseconds (0 or Infinity: none); may be changed. */
    timeout: number;
    /** Resolves with the close error once the WebSocket has closed. */
    readonly closed: Promise<GymieConnectionError>;
    /**
     * Called with each notification the server pushes (a JSON-RPC message with a `method` and no
     * `id`, e.g. the `tables` and `frame` messages of `/watch`); `null` ignores them.
     */
    onNotification: ((method: string, params: unknown) => void) | null;
    private readonly socket;
    private readonly pending;
    private nextId;
    private closeError;
    private constructor();
    /**
     * Open a connection to `url` (e.g. `ws://127.0.0.1:5000/gym`).
     *
     * @throws GymieConnectionError with code {@link CONNECT_FAILED}: the handshake was refused
     *   (`status` 401 for a wrong token, where the WebSocket implementation tells), failed, or timed out.
     */
    static open(url: string, options?: ConnectionOptions): Promise<Connection>;
    /** Requests sent and not yet answered. */
    get inFlight(): number;
    /** Whether the connection is closed, or being closed by {@link close}. */
    get isClosed(): boolean;
    /**
     * Call `method` with `params` and return its `result`.
     *
     * @throws GymieError the server's error (its `code` and `data`); GymieTimeoutError; GymieConnectionError.
     */
    call<T = unknown>(method: string, params?: object | unknown[], options?: CallOptions): Promise<T>;
    /** Close the WebSocket (code 1000) and wait for it to close; pending requests are rejected at once. Idempotent. */
    close(): Promise<void>;
    private rejectAll;
    private settle;
    private receive;
    private dispatch;
    private failOldest;
}
