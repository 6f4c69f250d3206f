/**
 * One WebSocket to a gymie server speaking JSON-RPC 2.0: requests are pipelined (many in flight)
 * and replies matched by id; every request has a timeout; a close rejects what is pending.
 *
 * Uses `globalThis.WebSocket` where there is one (browsers, Node ≥ 22), else the `ws` package,
 * imported only then. The token goes in an `Authorization: Bearer` header with `ws`, and as the
 * `?token=` query parameter with a browser-style WebSocket (which cannot set headers).
 */
import { decodeFrame, encodeFrame } from "./codec.js";
import { CONNECT_FAILED, CONNECTION_CLOSED, ErrorCode, GymieConnectionError, GymieError, GymieTimeoutError, fromWire, } from "./errors.js";
/** The WebSocket subprotocol of the msgpack encoding. */
export const MSGPACK_SUBPROTOCOL = "gymie.msgpack";
/** Default timeout of the handshake and of each request, in milliseconds. */
export const DEFAULT_TIMEOUT = 30_000;
const hasLimit = (ms) => ms > 0 && Number.isFinite(ms);
/** A JSON-RPC connection to a gymie server; open one with {@link Connection.open}. */
export class Connection {
    /** The encoding in use (the server may have refused msgpack). */
    encoding;
    /** The default request timeout in milliseconds (0 or Infinity: none); may be changed. */
    timeout;
    /** Resolves with the close error once the WebSocket has closed. */
    closed;
    /**
     * Called with each notification the server pushes (a JSON-RPC message with a `method` and no
     * `id`, e.g. the `tables` and `frame` messages of `/watch`); `null` ignores them.
     */
    onNotification = null;
    socket;
    pending = new Map();
    nextId = 1;
    closeError = null;
    constructor(socket, encoding, timeout) {
        this.socket = socket;
        this.encoding = encoding;
        this.timeout = timeout;
        socket.onmessage = (event) => this.receive(event.data);
        socket.onerror = () => { }; // a close event always follows
        this.closed = new Promise((resolve) => {
            socket.onclose = (event) => {
                const reason = event.reason ? `: ${event.reason}` : "";
                this.closeError ??= new GymieConnectionError(CONNECTION_CLOSED, `Connection closed by the server (code ${event.code}${reason})`, { closeCode: event.code, reason: event.reason });
                this.rejectAll(this.closeError);
                resolve(this.closeError);
            };
        });
        // A close that came between the open event and now went to the handshake's handler.
        if (socket.readyState >= 2)
            socket.onclose?.({ code: 1006, reason: "closed right after the handshake" });
    }
    /**
     * Open a connection to `url` (e.g. `ws://127.0.0.1:5000/gym`).
     *
     * @throws GymieConnectionError with code {@link CONNECT_FAILED}: the handshake was refused
     *   (`status` 401 for a wrong token, where the WebSocket implementation tells), failed, or timed out.
     */
    static async open(url, options = {}) {
        const encoding = options.encoding ?? "msgpack";
        if (encoding !== "msgpack" && encoding !== "json") {
            throw new TypeError(`encoding must be "msgpack" or "json", not ${JSON.stringify(encoding)}`);
        }
        const timeout = options.timeout ?? DEFAULT_TIMEOUT;
        const WS = options.WebSocket ?? globalThis.WebSocket ?? (await importWs());
        const nodeStyle = typeof WS.prototype.on === "function"; // ws: an EventEmitter
        const protocols = encoding === "msgpack" ? [MSGPACK_SUBPROTOCOL] : [];
        let socket;
        let refusal;
        if (nodeStyle) {
            const headers = { ...options.headers };
            if (options.token !== undefined)
                headers.Authorization = `Bearer ${options.token}`;
            const wsOptions = { headers, perMessageDeflate: false, ...(hasLimit(timeout) ? { handshakeTimeout: timeout } : {}) };
            socket = new WS(url, protocols, wsOptions);
            onRefusal(socket, (status, text) => (refusal = { status, text }));
        }
        else {
            socket = new WS(withToken(url, options.token), protocols);
        }
        socket.binaryType = "arraybuffer";
        await opened(socket, url, timeout, () => refusal);
        const agreed = encoding === "msgpack" && socket.protocol !== MSGPACK_SUBPROTOCOL ? "json" : encoding;
        return new Connection(socket, agreed, timeout);
    }
    /** Requests sent and not yet answered. */
    get inFlight() {
        return this.pending.size;
    }
    /** Whether the connection is closed, or being closed by {@link close}. */
    get isClosed() {
        return this.closeError !== null;
    }
    /**
     * Call `method` with `params` and return its `result`.
     *
     * @throws GymieError the server's error (its `code` and `data`); GymieTimeoutError; GymieConnectionError.
     */
    call(method, params, options = {}) {
        if (this.closeError !== null)
            return Promise.reject(this.closeError);
        const id = this.nextId++;
        const message = { jsonrpc: "2.0", id, method, params: params ?? {} };
        return new Promise((resolve, reject) => {
            let frame;
            try {
                frame = encodeFrame(message, this.encoding);
            }
            catch (error) {
                reject(new GymieError(ErrorCode.InvalidParams, `Cannot encode ${method}'s params: ${error}`, { error: "EncodeError" }));
                return;
            }
            const timeout = options.timeout ?? this.timeout;
            const timer = hasLimit(timeout)
                ? setTimeout(() => {
                    const error = new GymieTimeoutError(`No reply to ${method} within ${timeout} ms`, { method, timeout });
                    this.settle(id, this.pending.get(id), error);
                }, timeout)
                : undefined;
            this.pending.set(id, { method, resolve: resolve, reject, timer });
            try {
                this.socket.send(frame);
            }
            catch (error) {
                const closed = new GymieConnectionError(CONNECTION_CLOSED, `Cannot send ${method}: ${error}`);
                this.settle(id, this.pending.get(id), this.closeError ?? closed);
            }
        });
    }
    /** Close the WebSocket (code 1000) and wait for it to close; pending requests are rejected at once. Idempotent. */
    async close() {
        if (this.closeError === null) {
            this.closeError = new GymieConnectionError(CONNECTION_CLOSED, "Connection closed by the client (code 1000)", {
                closeCode: 1000,
                reason: "",
            });
            this.rejectAll(this.closeError);
            this.socket.close(1000, "");
            // ws waits up to 30 s for the server's close frame; don't wait that long for a silent server.
            const timer = setTimeout(() => this.socket.terminate?.(), 5_000);
            await this.closed;
            clearTimeout(timer);
        }
        await this.closed;
    }
    rejectAll(error) {
        for (const [id, call] of this.pending)
            this.settle(id, call, error);
    }
    settle(id, call, error, result) {
        if (call === undefined)
            return;
        this.pending.delete(id);
        if (call.timer !== undefined)
            clearTimeout(call.timer);
        if (error === null)
            call.resolve(result);
        else
            call.reject(error);
    }
    receive(frame) {
        let reply;
        try {
            reply = decodeFrame(frame);
        }
        catch (error) {
            // Replies come in request order, so an undecodable one answers the oldest pending request.
            this.failOldest(new GymieError(ErrorCode.ParseError, `Cannot decode the server's reply: ${error}`, { error: "DecodeError" }));
            return;
        }
        for (const one of Array.isArray(reply) ? reply : [reply])
            this.dispatch(one);
    }
    dispatch(reply) {
        if (typeof reply !== "object" || reply === null)
            return;
        const { id, result, error, method, params } = reply;
        if (id === undefined && typeof method === "string") {
            this.onNotification?.(method, params);
            return;
        }
        if (id === null && error !== undefined) {
            // The server could not read a request at all (its id is unknown): the oldest one, by order.
            this.failOldest(fromWire(error));
            return;
        }
        if (typeof id !== "number")
            return; // not a reply (or to a request that already timed out)
        const call = this.pending.get(id);
        if (error !== undefined)
            this.settle(id, call, fromWire(error));
        else
            this.settle(id, call, null, result);
    }
    failOldest(error) {
        const oldest = this.pending.entries().next();
        if (!oldest.done)
            this.settle(oldest.value[0], oldest.value[1], error);
    }
}
async function importWs() {
    try {
        const ws = await import("ws");
        return (ws.default ?? ws.WebSocket);
    }
    catch (error) {
        throw new Error(`No global WebSocket and the "ws" package cannot be imported (npm install ws): ${error}`);
    }
}
function withToken(url, token) {
    if (token === undefined)
        return url;
    const u = new URL(url);
    u.searchParams.set("token", token);
    return u.toString();
}
/** With `ws`: record the HTTP status and body of a refused handshake, then abort it. */
function onRefusal(socket, record) {
    const emitter = socket;
    emitter.on("unexpected-response", (_req, res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk ?? ""));
        res.on("end", () => {
            record(res.statusCode ?? 0, `HTTP ${res.statusCode} ${res.statusMessage ?? ""}`.trim() + (body ? `: ${body.slice(0, 200)}` : ""));
            emitter.terminate();
        });
    });
}
/** Resolve once `socket` is open; reject with a CONNECT_FAILED error if it closes first or times out. */
function opened(socket, url, timeout, refusal) {
    return new Promise((resolve, reject) => {
        let failure = "";
        const timer = hasLimit(timeout)
            ? setTimeout(() => {
                fail(new GymieConnectionError(CONNECT_FAILED, `Cannot connect to ${url}: no handshake within ${timeout} ms`));
                socket.onclose = null;
                socket.close();
            }, timeout)
            : undefined;
        const fail = (error) => {
            clearTimeout(timer);
            reject(error);
        };
        socket.onopen = () => {
            clearTimeout(timer);
            resolve();
        };
        socket.onerror = (event) => {
            const message = event.message ?? event.error?.message;
            if (message)
                failure = message;
        };
        socket.onclose = (event) => {
            const refused = refusal();
            const code = `code ${event.code}${event.reason ? `: ${event.reason}` : ""}`;
            const why = refused
                ? `handshake refused: ${refused.text}`
                : failure
                    ? `${failure} (${code})`
                    : `closed before the handshake completed (${code}; a browser WebSocket cannot tell why: ` +
                        "a wrong token, a refused Origin, a full server or no server look alike)";
            fail(new GymieConnectionError(CONNECT_FAILED, `Cannot connect to ${url}: ${why}`, {
                closeCode: event.code,
                reason: event.reason,
                ...(refused ? { status: refused.status } : {}),
            }));
        };
    });
}
