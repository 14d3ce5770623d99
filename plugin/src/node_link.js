// The node as the plugin talks to it: JSON-RPC over HTTP, and the proverJobs subscription
// over WebSocket (a push per ZK block), dropped and taken up again as the node comes and goes.

export const RPC_TIMEOUT_MS = 30_000;
export const RECONNECT_MS = 2_000;

export class RpcError extends Error {
  constructor(method, message, code) {
    super(`${method}: ${message}`);
    this.code = code;
  }
}

/** `http://host:port/` for whatever the user typed (a missing scheme means http). */
export function normalizeNodeUrl(text) {
  let value = String(text || "").trim();
  if (!/^[a-z]+:\/\//i.test(value)) value = "http://" + value;
  const url = new URL(value);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error("the node URL must be http:// or https://");
  }
  url.hash = "";
  url.search = "";
  return url.toString();
}

export function webSocketUrl(httpUrl) {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export class NodeLink {
  constructor(url) {
    this.url = normalizeNodeUrl(url);
    this.nextId = 1;
    this.socket = null;
    this.connected = false;
    this.wake = () => {};
  }

  async call(method, params = []) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), RPC_TIMEOUT_MS);
    let response;
    try {
      response = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
        signal: controller.signal,
      });
    } catch (error) {
      throw new RpcError(method, `the node at ${this.url} is unreachable (${error.message})`);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw new RpcError(method, `HTTP ${response.status}`);
    const answer = await response.json();
    if (answer.error) throw new RpcError(method, answer.error.message, answer.error.code);
    return answer.result;
  }

  /** The bytes at `path` on the node (a circuit file), with progress: onProgress(done, total). */
  async fetchFile(path, size, onProgress) {
    let response;
    try {
      response = await fetch(new URL(path, this.url));
    } catch (error) {
      throw new Error(`cannot fetch ${path} from ${this.url} (${error.message})`);
    }
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    const reader = response.body.getReader();
    const chunks = [];
    let done = 0;
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      chunks.push(value);
      done += value.length;
      if (done > size) throw new Error(`${path} is larger than the ${size} bytes announced`);
      onProgress(done, size);
    }
    const bytes = new Uint8Array(done);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.length;
    }
    return bytes;
  }

  /** Hold the proverJobs subscription for `address`; each push calls `onPush`. Reconnects
   * RECONNECT_MS after the socket drops, for as long as the page lives. */
  subscribe(address, onPush, onState) {
    const open = () => {
      const socket = new WebSocket(webSocketUrl(this.url));
      this.socket = socket;
      socket.onopen = () => {
        socket.send(
          JSON.stringify({
            jsonrpc: "2.0",
            id: 0,
            method: "eth_subscribe",
            params: ["proverJobs", address],
          }),
        );
      };
      socket.onmessage = (event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          return;
        }
        if (message.id === 0 && message.result) {
          this.connected = true;
          onState(true);
        } else if (message.method === "eth_subscription") {
          onPush(message.params.result);
        }
      };
      socket.onclose = () => {
        this.connected = false;
        onState(false);
        setTimeout(open, RECONNECT_MS);
      };
    };
    open();
  }
}
