/**
 * A ban set that already exists with other settings (made by an older build, or by hand; discover/ipsets.ts tells)
 * makes `ipset create -exist` fail, and with it every start. Such a set is rebuilt with our settings and its
 * entries kept: a new set under a temporary name gets a copy of them, then `ipset swap` exchanges the two
 * atomically (rules that name the set keep working throughout) and the old one is destroyed; all in one
 * `ipset restore`.
 */
import type { IpsetSpec } from '../../model.js';

/** The restore script that rebuilds `spec.name` from its saved form, entries (and their timeouts) kept. */
export function migrationScript(saved: string, spec: IpsetSpec, createLine: string): string {
  const temp = `${spec.name}-new`;
  const adds = saved.split('\n')
    .filter((l) => l.startsWith(`add ${spec.name} `))
    .map((l) => `add ${temp} ${l.slice(`add ${spec.name} `.length)}`);
  return [
    createLine.replace(`create ${spec.name} `, `create ${temp} `).trimEnd(),
    ...adds,
    `swap ${spec.name} ${temp}`,
    `destroy ${temp}`,
    '',
  ].join('\n');
}
