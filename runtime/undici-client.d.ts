// undici's Client class, imported from its own module rather than the package index: the index also loads
// fetch, WebSocket, caches and mocks, which costs start-up time the runtime never uses (measured: ~20 ms).
declare module 'undici/lib/dispatcher/client.js' {
  import type { Client } from 'undici';
  const ClientClass: typeof Client;
  export default ClientClass;
}
