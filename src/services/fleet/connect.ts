/**
 * How the fleet service reaches the engine: the nats client's own options from the FLEET_* keys (servers,
 * credentials by the file's kind, the CA), reconnecting for ever with a bounded wait, so an engine that is down
 * at boot or goes away later is simply waited for. The client is loaded here, on the service's first connect:
 * nothing else in tsfirewall pays for it.
 */
import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { ConnectionOptions, NatsConnection } from 'nats';
import type { FleetConfig } from '../../config/types.js';
import { ConfigError } from '../../errors.js';

export type Nats = typeof import('nats');
export const loadNats = (): Promise<Nats> => import('nats');

/** Which kind of secret a FLEET_CREDS file holds, read from its text: pure, for a unit test. */
export function credsKind(text: string): 'creds' | 'nkey' | 'userpass' | undefined {
  if (/-----BEGIN NATS USER JWT-----/.test(text)) return 'creds';
  const first = text.split('\n')[0]!.trim();
  if (/^SU[A-Z2-7]{56}$/.test(first)) return 'nkey';
  if (/^[^:\s]+:\S+$/.test(first)) return 'userpass';
  return undefined;
}

export function connectOptions(nats: Nats, fleet: FleetConfig): ConnectionOptions {
  let auth: Partial<ConnectionOptions> = {};
  if (fleet.creds !== undefined) {
    let bytes: Buffer;
    try { bytes = readFileSync(fleet.creds); } catch (err) {
      throw new ConfigError([{ key: 'FLEET_CREDS', message: `cannot read ${fleet.creds}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
    }
    const text = bytes.toString('utf8');
    const kind = credsKind(text);
    if (kind === 'creds') auth = { authenticator: nats.credsAuthenticator(new Uint8Array(bytes)) };
    else if (kind === 'nkey') auth = { authenticator: nats.nkeyAuthenticator(new TextEncoder().encode(text.split('\n')[0]!.trim())) };
    else if (kind === 'userpass') { const line = text.split('\n')[0]!.trim(); const i = line.indexOf(':'); auth = { user: line.slice(0, i), pass: line.slice(i + 1) }; }
    else throw new ConfigError([{ key: 'FLEET_CREDS', message: `${fleet.creds} is neither a NATS credentials file, an nkey seed (SU...) nor USER:PASSWORD` }]);
  }
  const tls = fleet.tlsCa !== undefined || fleet.servers.some((s) => s.startsWith('tls://'));
  return {
    servers: fleet.servers.map((s) => s.replace(/^(nats|tls):\/\//, '')),
    name: `tsfirewall-${fleet.name}`,
    ...auth,
    ...(tls ? { tls: { ...(fleet.tlsCa === undefined ? {} : { caFile: fleet.tlsCa }), checkServerIdentity: identityCheck(fleet) } as object } : {}),
    // Never give up: a host keeps its own bans with the engine away, and publishes what it queued once it is back.
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 1_000,
    reconnectJitter: 500,
    timeout: 5_000,
    pingInterval: 10_000,
    maxPingOut: 3,
  };
}

/**
 * The client names no server when it dials an IP address (it has no TLS name for it), so Node would check the
 * certificate against "localhost". The chain is still verified against FLEET_TLS_CA; the certificate must then name
 * one of FLEET_SERVERS (by its address or host name), as it would with a name to check.
 */
export function identityCheck(fleet: Pick<FleetConfig, 'servers'>): (host: string, cert: PeerCertificate) => Error | undefined {
  const names = fleet.servers.map((s) => s.replace(/^(nats|tls):\/\//, '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'));
  return (host, cert) => {
    const wanted = host && host !== 'localhost' ? [host] : names;
    const errors = wanted.map((n) => checkServerIdentity(n, cert));
    return errors.some((e) => e === undefined) ? undefined : errors[0];
  };
}

export async function connectFleet(nats: Nats, fleet: FleetConfig): Promise<NatsConnection> {
  return nats.connect(connectOptions(nats, fleet));
}
