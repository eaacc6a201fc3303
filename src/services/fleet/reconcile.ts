/**
 * Puts back the remote bans the kernel lost: a fail2ban unban here (which takes the entry whatever other hosts'
 * bans it stood for), a firewall restarted after a power loss, a set the kernel refused to fill while the firewall
 * was stopped. The ledger says what should be there; one read of each set says what is.
 */
import type { FirewallBackend } from '../../backend/types.js';
import type { JailSpec } from '../../bans/jails.js';
import type { Family } from '../../model.js';
import { applyBatch, planBatch } from './kernel.js';
import type { Ledger } from './ledger.js';

export async function reconcile(backend: FirewallBackend, jails: ReadonlyMap<string, JailSpec>, ledger: Ledger, self: string, stateDir: string, now = Date.now()): Promise<{ added: number }> {
  const present = new Map<string, Set<string> | undefined>();
  for (const j of jails.values()) {
    for (const [family, name] of Object.entries(j.targets) as [Family, string][]) {
      // Apart: the service lives on, and a read of a 100k set in process would leave its memory behind.
      const members = await backend.bans.members({ family, name, kind: j.kind }, { apart: true });
      present.set(`${j.service.name} ${family}`, members && new Set(members.map((m) => m.ip)));
    }
  }
  const missing = [];
  for (const e of ledger.entries()) {
    const jail = jails.get(e.jail);
    const family: Family = e.ip.includes(':') ? 'ipv6' : 'ipv4';
    const set = present.get(`${e.jail} ${family}`);
    // Only what other hosts asked for: this host's own bans are its ban daemon's and verbs' business.
    if (!jail || !set || set.has(e.ip) || e.origins.every((o) => o === self) || (e.end !== null && e.end <= now)) continue;
    missing.push({ kind: 'ban' as const, jail, family, ip: e.ip, end: e.end, changed: true });
  }
  if (missing.length === 0) return { added: 0 };
  const failures = await applyBatch(backend, planBatch(missing, now), stateDir);
  if (failures.length > 0) throw new Error(failures.join('; '));
  return { added: missing.length };
}
