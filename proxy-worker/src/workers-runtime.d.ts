// The few Workers-runtime globals this Worker uses (workerd's WebSocketPair and the
// webSocket member of Response/ResponseInit), declared here instead of pulling the whole
// @cloudflare/workers-types lib, which conflicts with the DOM lib the rest of the repo uses.
declare global {
  interface WebSocket {
    accept(): void;
  }
  class WebSocketPair {
    0: WebSocket;
    1: WebSocket;
  }
  interface Response {
    readonly webSocket: WebSocket | null;
  }
  interface ResponseInit {
    webSocket?: WebSocket | null;
  }
}
export {};
