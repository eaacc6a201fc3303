/**
 * IpsetSpec -> `ipset restore` text. One definition of a ban set's create line, because several programs must
 * agree on it byte for byte: start creates the sets with it, `check` and `show` print it, the set migration
 * rebuilds with it, and the ban batches repeat it so ipset can skip a kernel lookup per line (bans/kernel.ts).
 * `timeout 0` lets each entry carry its own expiry (fail2ban's ban time), so a ban still ends when fail2ban is
 * not running to lift it.
 */
import type { IpsetSpec } from '../../model.js';

export const ipsetCreateLine = (s: IpsetSpec) =>
  `create ${s.name} ${s.type} family ${s.family} maxelem ${s.maxelem} hashsize 4096 timeout 0\n`;

export const ipsetCreateScript = (sets: readonly IpsetSpec[]) => sets.map(ipsetCreateLine).join('');
