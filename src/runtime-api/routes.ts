// Maps a request line of the Runtime API (version 2018-06-01) to what it asks for. Kept apart from the server
// so the path grammar is in one place.

export type Route =
  | { name: 'next' }
  | { name: 'response'; requestId: string }
  | { name: 'invoke-error'; requestId: string }
  | { name: 'init-error' }
  | { name: 'ping' }
  | { name: 'method-not-allowed' }
  | { name: 'not-found' };

const PREFIX = '/2018-06-01/';
const INVOCATION = 'runtime/invocation/';

function expect(method: string, wanted: string, route: Route): Route {
  return method === wanted ? route : { name: 'method-not-allowed' };
}

export function matchRoute(method: string, url: string): Route {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (!path.startsWith(PREFIX)) return { name: 'not-found' };
  const rest = path.slice(PREFIX.length);

  if (rest === 'runtime/invocation/next') return expect(method, 'GET', { name: 'next' });
  if (rest === 'runtime/init/error') return expect(method, 'POST', { name: 'init-error' });
  if (rest === 'ping') return expect(method, 'GET', { name: 'ping' });

  if (rest.startsWith(INVOCATION)) {
    const tail = rest.slice(INVOCATION.length);
    const slash = tail.indexOf('/');
    if (slash > 0) {
      const requestId = safeDecode(tail.slice(0, slash));
      const action = tail.slice(slash + 1);
      if (action === 'response') return expect(method, 'POST', { name: 'response', requestId });
      if (action === 'error') return expect(method, 'POST', { name: 'invoke-error', requestId });
    }
  }
  return { name: 'not-found' };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a malformed escape is just an id that matches no invoke (400 InvalidRequestID)
  }
}
