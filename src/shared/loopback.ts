/** 127.0.0.0/8, ::1 and localhost: only this machine can connect to a server listening there. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * Whether a request's `Host` header names this machine (`127.0.0.1`, `localhost`, `[::1]`, any
 * port). A server on loopback serves only those: a web page that rebinds its own DNS name to
 * 127.0.0.1 reaches the port, but its requests still carry its own name (DNS rebinding).
 * No header at all (HTTP/1.0) is not a browser's request: allowed.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (header === undefined) return true;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(header.trim());
  return match?.[1] !== undefined && isLoopback(match[1]);
}
