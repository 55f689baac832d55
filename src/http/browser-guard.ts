// Refuses requests a web browser was made to send. lambkin's HTTP fronts (the Lambda API of `lambkin serve`, the
// emulator's invoke path) take no credentials, so any page the user visits could otherwise drive them: a form or
// fetch() POSTing a CreateFunction with `Content-Type: text/plain` needs no CORS preflight, and DNS rebinding lets a
// page on `evil.example` reach 127.0.0.1 under its own name. Two rules stop both, and no real client trips them:
// - an `Origin` header: browsers send one on every POST (and on cross-site GETs that read the answer); the AWS SDKs,
//   the AWS CLI, boto3 and curl never do.
// - a `Host` header naming a DNS name that is not ours: a rebinding attack needs a name it controls, so IP
//   literals, loopback names, container and service names and this machine's name are safe; anything else must be
//   allowed by the user (LAMBKIN_ALLOWED_HOSTS, `lambkin serve --allowed-host`).
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';

/** The variable listing extra host names (comma-separated) the guards accept, for the service and the emulator. */
export const ALLOWED_HOSTS_ENV = 'LAMBKIN_ALLOWED_HOSTS';

export interface BrowserGuardOptions {
  /** Who is refusing, in the message: "lambkin's Lambda API", "lambkin's emulator". */
  serverName: string;
  /** Extra names to accept (no port; `*.example.com` accepts every name under example.com). */
  allowedHosts?: readonly string[];
  /** How a user allows another name, said in the refusal: "set LAMBKIN_ALLOWED_HOSTS=..." and so on. */
  howToAllow: (host: string) => string;
  /** The machine's name; os.hostname() by default. */
  machineName?: string;
}

/** Why a request was refused, said so that the person who sent it knows what to change. */
export interface BrowserRefusal {
  rule: 'origin' | 'host';
  message: string;
}

export class BrowserGuard {
  private readonly serverName: string;
  private readonly exactNames: Set<string>;
  /** `.example.com` for an allowed `*.example.com`. */
  private readonly suffixes: string[];
  private readonly howToAllow: (host: string) => string;

  constructor(options: BrowserGuardOptions) {
    this.serverName = options.serverName;
    this.howToAllow = options.howToAllow;
    this.exactNames = new Set([bareName(options.machineName ?? hostname())]);
    this.suffixes = [];
    for (const entry of options.allowedHosts ?? []) {
      const name = bareName(hostWithoutPort(entry.trim()));
      if (name === '') continue;
      if (name.startsWith('*.')) this.suffixes.push(name.slice(1));
      else this.exactNames.add(name);
    }
  }

  /** A refusal for a browser-driven request; undefined for one a tool sent. */
  check(headers: IncomingHttpHeaders): BrowserRefusal | undefined {
    const origin = headers.origin;
    if (origin !== undefined) {
      return {
        rule: 'origin',
        message:
          `Request refused: it carries an Origin header (${origin}), which only browsers send; ` + `${this.serverName} does not serve cross-site requests`,
      };
    }
    const host = headers.host;
    // HTTP/1.0 clients may leave Host out; browsers never do.
    if (host === undefined || host === '' || this.accepts(host)) return undefined;
    const name = bareName(hostWithoutPort(host));
    return {
      rule: 'host',
      message:
        `Request refused: its Host header (${host}) names ${name}, which is not a name of this machine; a web page can ` +
        `reach ${this.serverName} under its own DNS name (DNS rebinding), so only IP addresses, localhost, ` +
        `host.docker.internal, names without a dot and this machine's hostname are accepted. ` +
        `If ${name} is yours, ${this.howToAllow(name)}`,
    };
  }

  /** Whether a Host header's name (any port) is one a rebinding page cannot have made up. */
  accepts(host: string): boolean {
    const raw = hostWithoutPort(host).toLowerCase();
    if (raw.startsWith('[')) return raw.endsWith(']') && isIP(raw.slice(1, -1)) === 6;
    const name = bareName(raw);
    if (isIP(name) !== 0) return true;
    if (name === 'localhost' || name.endsWith('.localhost') || name === 'host.docker.internal') return true;
    // Container and compose service names, the machine's short name. Checked on the name as sent: `evil.` (a fully
    // qualified name under a top-level domain) has a dot.
    if (!raw.includes('.')) return true;
    if (this.exactNames.has(name)) return true;
    return this.suffixes.some((suffix) => name.endsWith(suffix));
  }
}

/** Names from a comma-separated list (LAMBKIN_ALLOWED_HOSTS), blanks dropped. */
export function parseAllowedHosts(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
}

/** `name:port` → `name`; `[::1]:9000` → `[::1]`; a bare IPv6 address (not valid in Host, but tolerated) whole. */
function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  if (colon === -1 || host.indexOf(':', colon + 1) !== -1) return host;
  return host.slice(0, colon);
}

/** Lower case, without the trailing dot of a fully qualified name (`localhost.` is `localhost`). */
function bareName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}
