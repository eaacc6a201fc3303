/**
 * bans: the banned addresses per jail, read from the kernel (ipset list / iptables -S), which holds fail2ban's
 * bans and directly loaded ones alike and answers without starting fail2ban's Python client. In ipset mode each
 * entry's remaining time comes with it, as `fail2ban-client get JAIL banip --with-time` would tell (a chain-mode
 * direct ban's from its recorded expiry); expired chain-mode direct bans are lifted first.
 */
import { banContext, listBans } from '../../bans/ops.js';
import { liftExpired } from '../../bans/upkeep.js';
import { duration } from '../../status/format.js';
import { readLedger } from '../../services/fleet/ledger.js';
import type { Command } from '../context.js';

const bans: Command = async (ctx) => {
  const bctx = await banContext(ctx.configPath);
  await liftExpired(bctx.backend, bctx.jails);
  const jails = await listBans(bctx);
  // Where each ban came from: the fleet service's ledger names the hosts; a ban it does not know is this host's own.
  const self = bctx.config.fleet?.name ?? 'local';
  const ledger = bctx.config.fleet ? readLedger() : undefined;
  const originsOf = (service: string, ip: string) => { const o = ledger?.origins(service, ip) ?? []; return o.length ? o : [self]; };
  // On nftables a ban set is an nft set of our table, whatever BAN_MODE said.
  const kind = (mode: string) => (mode === 'chain' ? 'chain' : bctx.backend.name === 'nftables' ? 'set' : 'ipset');
  if (ctx.json) {
    process.stdout.write(JSON.stringify({
      jails: jails.map((j) => {
        const addresses = Object.values(j.addresses).flat();
        return { ...j, loaded: Object.keys(j.addresses).length > 0, count: addresses.length, addresses,
          origins: Object.fromEntries(addresses.map((a) => [a, originsOf(j.service, a)])) };
      }),
    }, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  for (const j of jails) {
    const addresses = Object.values(j.addresses).flat();
    const where = Object.values(j.targets).join(', ');
    const state = Object.keys(j.addresses).length === 0 ? 'not loaded (is the firewall started?)' : `${addresses.length} banned`;
    const left = (a: string) => (j.expiresIn[a] === undefined ? '' : `  (${duration(j.expiresIn[a]!)} left)`);
    const from = (a: string) => { const o = originsOf(j.service, a).filter((h) => h !== self); return o.length ? `  from ${o.join(', ')}` : ledger ? '  here' : ''; };
    out.push(`${j.jail} (service ${j.service}, ${kind(j.mode)} ${where}): ${state}`, ...addresses.map((a) => `  ${a}${left(a)}${from(a)}`));
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
};

export default bans;
