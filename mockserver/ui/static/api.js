// The control plane's client: every call the page makes goes through here, to the documented
// API under /__mock/. The control token, when the fake takes one, is asked for once, kept in
// this tab's sessionStorage and sent as the X-Mock-Token header: never in a URL.

const TOKEN = "videogen-mock.control-token";

class ControlError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class Api {
  /** `base`: the control plane's URL (the page's own /__mock/), `askToken(refused)`: a
   * promise of the token a person types in. */
  constructor(base, askToken) {
    this.base = base;
    this.askToken = askToken;
    this.asking = null;
  }

  url(path, query) {
    const url = new URL(path, this.base);
    for (const [name, value] of Object.entries(query || {})) {
      if (value != null && value !== "") url.searchParams.set(name, value);
    }
    return url;
  }

  headers(extra) {
    const headers = { Accept: "application/json", ...extra };
    const token = sessionStorage.getItem(TOKEN);
    if (token) headers["X-Mock-Token"] = token;
    return headers;
  }

  /** One token prompt however many calls were refused at once. */
  async tokenNeeded() {
    const refused = sessionStorage.getItem(TOKEN) !== null;
    if (!this.asking) {
      this.asking = this.askToken(refused).then((token) => {
        sessionStorage.setItem(TOKEN, token);
        this.asking = null;
      });
    }
    return this.asking;
  }

  async fetch(method, path, { query, body, headers, signal } = {}) {
    for (;;) {
      const sent = this.headers(body === undefined ? headers : { "Content-Type": "application/json", ...headers });
      const response = await fetch(this.url(path, query), {
        method,
        headers: sent,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
        referrerPolicy: "no-referrer",
        signal,
      });
      if (response.status !== 401) return response;
      await response.body?.cancel();
      await this.tokenNeeded();
    }
  }

  async call(method, path, options) {
    const response = await this.fetch(method, path, options);
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = data && data.error ? data.error : {};
      throw new ControlError(response.status, error.code || "error", error.message || response.statusText);
    }
    return data;
  }

  get(path, query) {
    return this.call("GET", path, { query });
  }

  post(path, body, query) {
    return this.call("POST", path, { body, query });
  }

  delete(path) {
    return this.call("DELETE", path);
  }

  /** The event stream (Server-Sent Events read from a fetch body, so the token goes in a
   * header): calls `onEvent(kind, data, id)` until the stream ends. Resolves false at once when
   * the fake serves no stream. */
  async stream(path, query, onOpen, onEvent, signal) {
    const response = await this.fetch("GET", path, { query, headers: { Accept: "text/event-stream" }, signal });
    const type = response.headers.get("content-type") || "";
    if (!response.ok || !type.startsWith("text/event-stream")) {
      await response.body?.cancel();
      return false;
    }
    onOpen();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let message = { id: null, event: "message", data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          if (message.data.length) onEvent(message.event, message.data.join("\n"), message.id);
          message = { id: null, event: "message", data: [] };
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") message.data.push(text);
          else if (field === "event") message.event = text;
          else if (field === "id") message.id = text;
        }
      }
    }
  }
}
