/**
 * The rulesets under test, built with the product's own parser and compiler so every contestant loads exactly
 * the same rules: the seed's ruleset (the embedded default), scaled rulesets of many trusted nets and services,
 * and the seed's loading method (one `iptables` exec per rule) derived from the rendered text.
 */
import { compile } from '../../src/compile/plan.js';
import { parseConfig } from '../../src/config/load.js';
import type { HostFacts } from '../../src/discover/host.js';
import type { Family, Plan } from '../../src/model.js';
import { renderRule, renderRuleset } from '../../src/backend/iptables/render.js';

/** FAIL2BAN=no everywhere: a fail2ban installed on this machine must never be started from a bench namespace. */
export const SEED_CONFIG = 'FAIL2BAN=no\nBAN_MODE=ipset\n';

/** TEST-NET host addresses (RFC 5737) for trusted nets and service sources; none of them is ever sent a packet. */
const TEST_NETS = ['203.0.113', '198.51.100'];
const testAddr = (i: number) => `${TEST_NETS[Math.floor(i / 250) % 2]}.${(i % 250) + 1}/32`;

/**
 * A config whose ruleset has about `target` rules: the seed's services, up to 250 trusted /32s, then extra services
 * on their own ports, each open to a list of TEST-NET sources (one rule per source).
 */
export function scaledConfig(target: number): string {
  const base = 13;
  const trusted = Math.min(250, Math.max(0, Math.floor((target - base) / 4)));
  let left = target - base - trusted;
  const lines = [SEED_CONFIG.trim(), `TRUSTED_NETS=${Array.from({ length: trusted }, (_, i) => testAddr(i)).join(' ')}`];
  const services: string[] = [];
  for (let s = 0; left > 0 && s < 99; s++) {
    const from = Math.min(left, 25);
    const name = `app${s}`;
    services.push(name);
    lines.push(`SERVICE_APP${s}_PORTS=${10_000 + s}`,
      `SERVICE_APP${s}_FROM=${Array.from({ length: from }, (_, i) => testAddr(250 + s * 3 + i)).join(' ')}`);
    left -= from;
  }
  lines.push(`SERVICES=ssh ftp web ${services.join(' ')}`);
  return lines.join('\n') + '\n';
}

export function planFor(configText: string, host: HostFacts): Plan {
  return compile(parseConfig(configText).config, host);
}

export const ruleCount = (plan: Plan) =>
  plan.rulesets.reduce((n, r) => n + r.tables.reduce((m, t) => m + t.rules.length, 0), 0);

/** The plain program names the bench's own contestants use (the system's iptables alternative). */
export const GENERIC_CLI: Readonly<Record<Family, string>> = { ipv4: 'iptables', ipv6: 'ip6tables' };

/** One family's iptables-restore document, as rendered for the kernel. */
export const familyRestore = (plan: Plan, family: Family) => renderRuleset(plan.rulesets.find((r) => r.family === family)!);

/** The IPv4 iptables-restore document: what one bare `iptables-restore` loads (the physical floor). */
export const ipv4Restore = (plan: Plan) => familyRestore(plan, 'ipv4');

/**
 * The seed's method for the same ruleset: flush, delete chains, set policies, create chains, then one
 * `iptables -A ...` per rule. Quoted words (the LOG prefix) are unquoted the way a shell would.
 */
export function perRuleArgvs(plan: Plan, cli: { ipv4: string; ipv6: string }): string[][] {
  const out: string[][] = [];
  for (const ruleset of plan.rulesets) {
    const bin = cli[ruleset.family];
    for (const table of ruleset.tables) {
      const t = ['-t', table.name];
      out.push([bin, ...t, '-F'], [bin, ...t, '-X']);
      for (const chain of table.chains) out.push(chain.policy ? [bin, ...t, '-P', chain.name, chain.policy] : [bin, ...t, '-N', chain.name]);
      for (const rule of table.rules) for (const line of renderRule(rule)) out.push([bin, ...t, ...words(line)]);
    }
  }
  return out;
}

/** Splits a rendered rule into argv words; double quotes group words, as in iptables-restore and sh. */
export function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}
