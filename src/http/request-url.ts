// A request's target as a URL. node:http hands over the target as sent (`/path?query`), and URL parses a path only
// against a base: one under `.invalid`, a name that can never resolve, so nothing takes it for a real host.
const BASE = 'http://lambkin.invalid';

export function requestUrl(target: string | undefined): URL {
  return new URL(target ?? '/', BASE);
}
