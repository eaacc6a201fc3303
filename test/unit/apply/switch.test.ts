/**
 * Another backend's ruleset of ours (left by a change of BACKEND, or by an upgrade that turned BACKEND=auto into
 * nftables) is found, taken over by start with its bans, and removed by stop; a backend holding nothing, or one
 * that cannot be read, is left alone. Stand-in backends record what was asked of them.
 */
import { describe, expect, test } from 'vitest';
import { holdersBesides, removeElsewhere, takeOverFrom } from '../../../src/apply/switch.js';
import type { BackendName, BanEntry, BanTarget, FirewallBackend, LiveState } from '../../../src/backend/types.js';

const EMPTY: LiveState = { families: new Map(), loaded: false, boot: false, setCounts: new Map() };
const LOADED: LiveState = { ...EMPTY, loaded: true };

interface Fake { readonly backend: FirewallBackend; readonly calls: string[] }

/** A backend whose kernel holds `live` (or whose read fails) and `bans` per target name. */
function fake(name: BackendName, live: LiveState | Error, bans: Record<string, BanEntry[]> = {}): Fake {
  const calls: string[] = [];
  const backend = {
    name,
    label: name,
    installed: () => true,
    readLive: async (_families, sets) => {
      calls.push(`readLive ${sets.join(',')}`);
      if (live instanceof Error) throw live;
      return live;
    },
    remove: async (opts) => { calls.push(`remove ${opts.families.join(',')} sets=${opts.sets.join(',')}`); },
    bans: {
      members: async (t: BanTarget) => bans[t.name],
      add: async (t: BanTarget, ips: readonly string[], o?: { timeout?: number }) => {
        calls.push(`add ${t.name} ${ips.join(',')} timeout=${o?.timeout ?? 0}`);
        return ips.length;
      },
      remove: async () => undefined,
      flush: async () => undefined,
      holds: async () => false,
    },
  } as Partial<FirewallBackend> as FirewallBackend;
  return { backend, calls };
}

const SSH: BanTarget = { family: 'ipv4', name: 'f2b-SSH', kind: 'set' };

describe('holdersBesides', () => {
  test('names the other backends that hold rules of ours, never the current one, and skips unreadable ones', async () => {
    const legacy = fake('iptables-legacy', LOADED);
    const iptNft = fake('iptables-nft', EMPTY);
    const broken = fake('iptables-nft', new Error('iptables-nft-save: cannot initialize'));
    const self = fake('nftables', LOADED);
    const held = await holdersBesides('nftables', { sets: ['f2b-SSH'], candidates: [self.backend, iptNft.backend, broken.backend, legacy.backend] });
    expect(held.map((h) => h.backend.name)).toEqual(['iptables-legacy']);
    expect(held[0]!.live).toBe(LOADED);
    expect(legacy.calls).toEqual(['readLive f2b-SSH']);
    expect(self.calls).toEqual([]);
  });
});

describe('removeElsewhere (stop)', () => {
  test('removes our ruleset from each other backend holding one, with the config\'s ban sets, and only there', async () => {
    const iptNft = fake('iptables-nft', LOADED);
    const legacy = fake('iptables-legacy', EMPTY);
    expect(await removeElsewhere('nftables', ['f2b-SSH'], [iptNft.backend, legacy.backend])).toEqual(['iptables-nft']);
    expect(iptNft.calls).toEqual(['readLive ', 'remove ipv4,ipv6 sets=f2b-SSH']);
    expect(legacy.calls).toEqual(['readLive ']);
  });

  test('nothing held elsewhere: nothing removed', async () => {
    const nft = fake('nftables', EMPTY);
    expect(await removeElsewhere('iptables-nft', [], [nft.backend])).toEqual([]);
    expect(nft.calls).toEqual(['readLive ']);
  });
});

describe('takeOverFrom (start)', () => {
  test('copies the old backend\'s bans with their time left, then removes its ruleset', async () => {
    const old = fake('iptables-nft', LOADED, { 'f2b-SSH': [{ ip: '198.51.100.7', expiresIn: 500 }, { ip: '198.51.100.8' }] });
    const now = fake('nftables', EMPTY);
    expect(await takeOverFrom(now.backend, [SSH], [old.backend])).toEqual(['iptables-nft']);
    expect(now.calls).toEqual(['add f2b-SSH 198.51.100.7 timeout=500', 'add f2b-SSH 198.51.100.8 timeout=0']);
    expect(old.calls).toEqual(['readLive ', 'remove ipv4,ipv6 sets=f2b-SSH']);
  });
});
