/**
 * enable / disable / status of the seed's SMTP defence. Order matters for "nothing half-applied": the account
 * exists and the original values are on disk before main.cf changes, and a failed edit is rolled back.
 */
import { say } from '../output.js';
import { log } from '../log.js';
import { ensureAccount, lookupAccount } from './account.js';
import { mailboxCandidates, measureMailbox, type Mailbox } from './mailbox.js';
import { enableEdits, isGuarded, restoreEdits } from './plan.js';
import { applyEdits, describeSetting, postfixPrograms, readEffective, readSettings, type Settings } from './postconf.js';
import { RELOAD_MESSAGE, reloadPostfix } from './reload.js';
import { readState, removeState, stateDir, writeState, type GuardState } from './state.js';

export interface GuardStatus {
  /** main.cf has the guard's values now: unknown recipients are accepted and delivered to the account. */
  readonly enabled: boolean;
  /** tsfirewall holds saved originals (so `disable` can restore them). */
  readonly managed: boolean;
  readonly account: string;
  readonly accountExists: boolean;
  readonly settings: Settings;
  readonly mailbox: Mailbox | null;
  readonly previous: Settings | null;
}

export async function enableGuard(account: string, dir = stateDir()): Promise<void> {
  const { postfix } = postfixPrograms();
  const saved = readState(dir);
  const current = await readSettings();
  const { created } = await ensureAccount(account);
  if (created) say(`created account ${account} (no login shell, no home)`);
  if (saved && saved.account === account && isGuarded(current, account)) {
    say(`mailguard is already enabled (account ${account}); nothing changed`);
    return;
  }
  if (saved) log.warn(`main.cf no longer holds the guard's values${saved.account !== account ? ` (account was ${saved.account})` : ''}; re-applying, keeping the originals saved on ${saved.enabledAt}`);
  else if (isGuarded(current, account)) log.warn('main.cf already has these values (set by hand?); disable will leave them as they are now');
  const state: GuardState = saved
    ? { ...saved, account, createdAccount: saved.createdAccount || created }
    : { version: 1, account, createdAccount: created, enabledAt: new Date().toISOString(), previous: current };
  writeState(state, dir);
  const edits = enableEdits(current, account);
  try {
    await applyEdits(edits);
  } catch (err) {
    await rollBack(current, saved === undefined, dir);
    throw err;
  }
  say(`mailguard enabled: mail to unknown local users is accepted and delivered to ${account}`);
  say(RELOAD_MESSAGE[await reloadPostfix(postfix)]);
}

/** Puts back what this enable changed; a first-time enable also forgets its saved state. */
async function rollBack(before: Settings, firstTime: boolean, dir: string): Promise<void> {
  try {
    await applyEdits(restoreEdits(await readSettings(), before));
    if (firstTime) removeState(dir);
    log.error('mailguard enable failed; main.cf was put back as it was');
  } catch (err) {
    log.error(`mailguard enable failed and main.cf could not be put back (${String(err)}); run "tsfirewall mailguard disable"`);
  }
}

export async function disableGuard(dir = stateDir()): Promise<void> {
  const { postfix } = postfixPrograms();
  const saved = readState(dir);
  if (!saved) {
    say('mailguard is not enabled by tsfirewall (no saved state); nothing changed');
    return;
  }
  const edits = restoreEdits(await readSettings(), saved.previous);
  await applyEdits(edits);
  removeState(dir);
  const restored = Object.entries(saved.previous).map(([k, v]) => `${k} ${describeSetting(v)}`).join(', ');
  say(`mailguard disabled: restored ${restored}`);
  if (edits.length > 0) say(RELOAD_MESSAGE[await reloadPostfix(postfix)]);
  const box = measureMailbox(mailboxCandidates(saved.account, await spoolDir()));
  say(`account ${saved.account} is kept${box ? ` with its mailbox ${box.path}` : ''} (it may hold mail); remove it with "userdel ${saved.account}" when no longer needed`);
}

export async function guardStatus(configured: string, dir = stateDir()): Promise<GuardStatus> {
  postfixPrograms();
  const saved = readState(dir);
  const account = saved?.account ?? configured;
  const settings = await readSettings();
  return {
    enabled: isGuarded(settings, account),
    managed: saved !== undefined,
    account,
    accountExists: (await lookupAccount(account)) !== undefined,
    settings,
    mailbox: measureMailbox(mailboxCandidates(account, await spoolDir())) ?? null,
    previous: saved?.previous ?? null,
  };
}

async function spoolDir(): Promise<string> {
  return (await readEffective('mail_spool_directory')) || '/var/mail';
}
