/**
 * What a host that routes needs: port forwards (FORWARD_<NAME>: destination NAT, and the routed connection
 * accepted on its way), routed-traffic rules (ROUTE_<NAME>_*) that close forwarding to everything else once any is
 * given, and source NAT (to an address, or masquerade). The FORWARD verdict is the last rule of our own chain
 * (backend: tsfw-forward, or forward4/forward6), never a built-in policy Docker or libvirt also rely on.
 */
import type { Config } from '../config/types.js';
import type { Endpoint, RouteRule } from '../config/network-types.js';
import type { Family, Match, Rule } from '../model.js';
import { isFamily, portGroups, trustedInterfaces } from './input.js';

/** Routed traffic is dropped unless accepted once any route rule is given; until then it passes, as in the seed. */
export const forwardPolicy = (config: Pick<Config, 'routes'>): 'ACCEPT' | 'DROP' => (config.routes.length > 0 ? 'DROP' : 'ACCEPT');

/** The match words one endpoint adds, on the side it stands for. */
const endpointMatch = (e: Endpoint | undefined, side: 'from' | 'to'): Match => {
  if (e === undefined) return {};
  if ('iface' in e) return side === 'from' ? { inIface: e.iface } : { outIface: e.iface };
  return side === 'from' ? { src: { cidr: e.cidr } } : { dst: { cidr: e.cidr } };
};

/**
 * A route's ends in one family: anywhere is one undefined end; networks of the other family fall away, and an end
 * left with nothing means the route does not exist in this family.
 */
function ends(list: readonly Endpoint[], family: Family): (Endpoint | undefined)[] {
  if (list.length === 0) return [undefined];
  return list.filter((e) => 'iface' in e || isFamily(family)(e.cidr));
}

function routeRules(route: RouteRule, family: Family): Rule[] {
  const out: Rule[] = [];
  const protos = route.protos.length === 0 ? [undefined] : route.protos;
  const ports = route.ports.length === 0 ? [undefined] : portGroups(route.ports);
  for (const from of ends(route.from, family)) {
    for (const to of ends(route.to, family)) {
      for (const proto of protos) {
        for (const dports of proto === undefined ? [undefined] : ports) {
          const match: Match = { ...endpointMatch(from, 'from'), ...endpointMatch(to, 'to'), ...(proto ? { proto } : {}), ...(dports ? { dports } : {}) };
          out.push({ chain: 'FORWARD', group: 'routes', match, target: { kind: 'ACCEPT' } });
        }
      }
    }
  }
  return out;
}

/**
 * The FORWARD chain's rules for one family, or none when the config routes nothing. Replies come first (the
 * forwarded connections' answers, and the ICMP errors about them, which conntrack marks RELATED); then, once routes
 * close forwarding, the interfaces trusted whole; the port forwards' accepts, which match only connections our
 * DNAT rewrote (conntrack state DNAT) from the regions allowed; the routes.
 */
export function forwardRules(config: Config, family: Family): Rule[] {
  const forwards = family === 'ipv4' ? config.forwards : [];
  if (forwards.length === 0 && config.routes.length === 0) return [];
  const rules: Rule[] = [{ chain: 'FORWARD', group: 'replies', match: { ctstate: ['ESTABLISHED', 'RELATED'] }, target: { kind: 'ACCEPT' } }];
  if (config.routes.length > 0) {
    for (const i of trustedInterfaces(config)) rules.push({ chain: 'FORWARD', group: 'interfaces', match: { inIface: i }, target: { kind: 'ACCEPT' } });
  }
  for (const f of forwards) {
    for (const from of f.from.length === 0 ? [undefined] : f.from.filter(isFamily('ipv4'))) {
      rules.push({
        chain: 'FORWARD', group: 'forwards', target: { kind: 'ACCEPT' },
        match: { ...(from ? { src: { cidr: from } } : {}), dst: { cidr: `${f.toAddr}/32` }, proto: f.proto, dports: [f.toPort ?? f.port], ctstate: ['DNAT'] },
      });
    }
  }
  for (const route of config.routes) rules.push(...routeRules(route, family));
  return rules;
}

/**
 * The nat table's rules for IPv4: each port forward's DNAT for connections to any of this host's IPv4 addresses
 * (`addresses`; none yet at boot, so forwards wait for the full start), from each allowed region; then source NAT.
 */
export function natRules(config: Config, addresses: readonly string[], myip: string | undefined): Rule[] {
  const rules: Rule[] = [];
  for (const f of config.forwards) {
    const to = f.toPort === undefined ? f.toAddr : `${f.toAddr}:${f.toPort}`;
    for (const addr of addresses) {
      for (const from of f.from.length === 0 ? [undefined] : f.from.filter(isFamily('ipv4'))) {
        rules.push({
          chain: 'PREROUTING', group: 'forwards', target: { kind: 'DNAT', to },
          match: { ...(from ? { src: { cidr: from } } : {}), dst: { cidr: addr }, proto: f.proto, dports: [f.port] },
        });
      }
    }
  }
  const snat = config.snat;
  if (snat?.masquerade) rules.push({ chain: 'POSTROUTING', group: 'nat', match: { outIface: snat.iface }, target: { kind: 'MASQUERADE' } });
  else if (snat && (snat.to ?? myip) !== undefined) {
    rules.push({ chain: 'POSTROUTING', group: 'nat', match: { outIface: snat.iface }, target: { kind: 'SNAT', to: (snat.to ?? myip)! } });
  }
  return rules;
}

/** What the routing keys cannot do yet on this host, said at start: the address they wait for, a kernel that does not forward. */
export function forwardWarnings(config: Config, addressed: boolean, v4Addresses: number, ipForward: boolean | undefined): string[] {
  const out: string[] = [];
  if (config.forwards.length > 0 && v4Addresses === 0) {
    out.push(addressed
      ? 'FORWARD_*: this host has no IPv4 address to forward from; the port forwards are not loaded'
      : 'FORWARD_*: the port forwards wait for the address (tsfirewall start)');
  }
  if ((config.forwards.length > 0 || config.routes.length > 0) && ipForward === false) {
    out.push('FORWARD_*/ROUTE_*: this host does not forward IPv4 (net.ipv4.ip_forward=0): nothing is routed until it does (sysctl -w net.ipv4.ip_forward=1, and in /etc/sysctl.d)');
  }
  return out;
}
