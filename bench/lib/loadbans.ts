/**
 * Times tsfirewall's own batch ban path in-process: `loadBans(set, ips)` from src/bans/kernel.ts (validation of
 * every address, the restore text, one `ipset restore`). Run inside a lab namespace by the bans section:
 * `loadbans.mjs SET COUNT`; prints {"ms": ...} measured after Node and the module have loaded.
 */
import { performance } from 'node:perf_hooks';
import { loadBans } from '../../src/backend/iptables/bans.js';
import { banSetSpec } from '../../src/compile/plan.js';
import { banAddresses } from '../../test/harness/ban-addresses.js';

const [set, countS] = process.argv.slice(2);
const ips = banAddresses(Number(countS));
const t0 = performance.now();
const sent = await loadBans(banSetSpec(set!, 'ipv4'), ips);
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, sent }) + '\n');
