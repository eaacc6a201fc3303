/**
 * The interface an SSH client's packets arrive on, for the lock-out guard's per-interface rules: loopback when the
 * client is one of this host's own addresses (the kernel routes those through lo), else the interface the main
 * routing table reaches it by, which is where its packets come in when routing is symmetric. Undefined when the
 * routes cannot tell; the guard then treats an interface match as "maybe", which errs towards refusing.
 */
import { networkInterfaces } from 'node:os';
import { routeIface, type RouteFiles } from '../discover/routes.js';
import { parseNetwork } from '../net/addr.js';

export function reachedBy(client: string, opts: { interfaces?: typeof networkInterfaces; routes?: RouteFiles } = {}): string | undefined {
  const canonical = parseNetwork(client.replace(/%.*$/, ''))?.network;
  if (canonical === undefined) return undefined;
  const own = Object.values((opts.interfaces ?? networkInterfaces)()).some((addrs) =>
    (addrs ?? []).some((a) => parseNetwork(a.address.replace(/%.*$/, ''))?.network === canonical));
  return own ? 'lo' : routeIface(canonical, opts.routes);
}
