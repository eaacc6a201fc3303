/**
 * The fail2ban action for the nftables backend: bans are elements, with the ban's own timeout, of the f2b sets in
 * the table tsfirewall owns. Unlike fail2ban's stock nftables action (which makes its own table, chain and set
 * at start and deletes them at stop), this one sets up and tears down nothing: tsfirewall declares the sets
 * before its rules load, and a restart of fail2ban must not open a window. Pure, so a unit test pins the text.
 */
import { setActionText } from '../../bans/conf.js';
import type { Fail2banActions } from '../types.js';
import { TABLE_REF } from './layout.js';

/** Its own name, beside the ipset and chain actions, so switching backends never leaves a jail on the wrong one. */
export const NFT_ACTION = 'tsfirewall-nftables';


/** fail2ban runs each action through /bin/sh: braces and semicolons are escaped, as its stock action does. */
const element = (verb: 'add' | 'delete', tail = '') => `${verb} element ${TABLE_REF} <addr_set> \\{ <ip>${tail} \\}`;
/** Commands joined by an escaped semicolon reach one nft as one command line: one transaction. */
const oneNft = (...commands: string[]) => `<nftables> ${commands.join('\\; ')}`;

/**
 * One nft per action, so each is one transaction. A ban is add, delete, add: the element gets this ban's
 * timeout even when it is there already (an add alone keeps the old one on kernels before 6.12), and the first add
 * makes the delete safe. An unban is add then delete: the kernel may have expired the ban already, and a delete
 * of a missing element fails.
 */
export function nftablesAction(opts: { readonly nft: string; readonly ipv6: boolean; readonly source?: string }): string {
  return setActionText({
    what: `fail2ban action: bans are elements of the sets in table ${TABLE_REF}, which tsfirewall owns.`, source: opts.source,
    owner: 'tsfirewall declares f2b-<name> / f2b6-<name> in its table before its rules load and deletes the table on stop.',
    expiry: 'Each element carries the ban time (timeout 0s: until unbanned), so the kernel expires it even if fail2ban is\nnot running to unban it.',
    ban: oneNft(element('add'), element('delete'), element('add', ' timeout <ipsettime>s')),
    prolong: 'the ban\'s commands renew it.',
    unban: oneNft(element('add'), element('delete')),
    tool: ['nftables', opts.nft], setVar: 'addr_set', ipv6: opts.ipv6,
  });
}

/** The seam's fail2ban wiring: one action file, and the jail's action line for a ban name and its timeout. */
export function nftablesFail2ban(opts: { readonly nft: string; readonly ipv6: boolean; readonly source?: string }): Fail2banActions {
  return {
    files: new Map([[NFT_ACTION, nftablesAction(opts)]]),
    action: (jail, ipsettime) => `${NFT_ACTION}[name=${jail.banName}, ipsettime=${ipsettime}]`,
  };
}
