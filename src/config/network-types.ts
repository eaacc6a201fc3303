/**
 * The validated shape of what a router or multi-homed host asks for beyond the seed's one interface: interfaces
 * trusted whole, port forwards, routed-traffic rules, the egress policy. Kept apart from types.ts so the parts
 * that read and compile them (config/network.ts, compile/forward.ts, compile/egress.ts) have one home.
 */

/**
 * One end of a routed flow or an egress destination: a network (IPv4 or IPv6, "addr/prefix"), or an interface
 * (whatever arrives on it, or leaves by it). An empty list of endpoints means "anywhere".
 */
export type Endpoint = { readonly cidr: string } | { readonly iface: string };

/** INTERFACE_<IF>_POLICY: accept trusts what arrives on the interface entirely; filter (the default) does not. */
export interface InterfacePolicy { readonly iface: string; readonly policy: 'accept' | 'filter' }

/**
 * FORWARD_<NAME>=tcp:8080->198.51.100.20:80: connections to this host's port (or range) are sent on to another
 * host (destination NAT), and the routed connection is accepted on its way there.
 */
export interface PortForward {
  readonly name: string;
  readonly proto: 'tcp' | 'udp';
  /** The port or "lo:hi" range this host answers on. */
  readonly port: string;
  /** Where the connections go: an IPv4 address, and a port (absent: the same port). */
  readonly toAddr: string;
  readonly toPort?: string;
  /** Allowed source networks (FORWARD_<NAME>_FROM); empty: the whole world. */
  readonly from: readonly string[];
}

/** ROUTE_<NAME>_FROM/_TO/_PORTS/_PROTO: routed traffic this host lets through once forwarding is closed. */
export interface RouteRule {
  readonly name: string;
  readonly from: readonly Endpoint[];
  readonly to: readonly Endpoint[];
  /** Empty: every protocol (and then no ports). */
  readonly protos: readonly ('tcp' | 'udp')[];
  readonly ports: readonly string[];
}

/** One OUTPUT_ALLOW item: what this host may still send when OUTPUT_POLICY=drop. */
export interface EgressAllow {
  /** Absent: every protocol. */
  readonly proto?: 'tcp' | 'udp' | 'icmp';
  /** A port or "lo:hi" range (tcp and udp only). */
  readonly port?: string;
  /** Absent: any destination. */
  readonly to?: Endpoint;
}

export interface EgressPolicy { readonly policy: 'accept' | 'drop'; readonly allow: readonly EgressAllow[] }
