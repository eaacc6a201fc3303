/**
 * How the nftables backend talks to nft: every load, check, read and ban edit is one call here, as libnftables in
 * this process when the nft it would run is the system's own, or as the program otherwise. A program other than
 * the system's (a test's fault-injecting stand-in first on PATH, or one a caller names) is always run, so "which
 * nft" keeps meaning what runs; TSFIREWALL_NFT=program runs the program in every case.
 */
import { realpathSync } from 'node:fs';
import { NotInstalledError } from '../../errors.js';
import { nftLibrary, type NftOptions } from '../../exec/libnftables.js';
import { run, type RunResult } from '../../exec/run.js';
import { which } from '../../exec/which.js';

/** Where distributions install nft, whose library libnftables is. */
const SYSTEM_NFT = new Set(['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft', '/bin/nft']);

/** The nft program on PATH (or in the sbin dirs), for callers that hand its path on (fail2ban's action). */
export function nftPath(): string {
  const nft = which('nft');
  if (!nft) throw new NotInstalledError('the nft program is not installed (install the nftables package)');
  return nft;
}

function isSystemNft(path: string): boolean {
  try {
    return SYSTEM_NFT.has(realpathSync(path));
  } catch {
    return false;
  }
}

/**
 * nft's argv as the program reads it: -j and -c are flags, `-f -` is the document on stdin, and any other words are
 * one command, which nft's main() makes by joining them with spaces.
 */
function asLibraryCall(args: readonly string[], input: string | undefined): { text: string; opts: NftOptions } | undefined {
  const words = [...args];
  const opts = { json: false, check: false };
  while (words[0] === '-j' || words[0] === '-c') opts[words.shift() === '-j' ? 'json' : 'check'] = true;
  if (words.length === 2 && words[0] === '-f' && words[1] === '-' && input !== undefined) return { text: input, opts };
  if (words.length === 0 || words.some((w) => w.startsWith('-')) || input !== undefined) return undefined;
  return { text: words.join(' '), opts };
}

/**
 * Runs nft with these arguments (and `input` on stdin for `-f -`). `program` names the nft to run, and then it is
 * run; without it, the one on PATH, in process when that is the system's and the arguments are ones the library
 * takes the same way.
 */
export async function nft(args: readonly string[], input?: string, program?: string): Promise<RunResult> {
  const path = program ?? nftPath();
  const call = program === undefined && process.env.TSFIREWALL_NFT !== 'program' && isSystemNft(path) ? asLibraryCall(args, input) : undefined;
  const library = call && await nftLibrary();
  if (call && library) return library.run(call.text, call.opts);
  return run(path, args, input === undefined ? {} : { input });
}
