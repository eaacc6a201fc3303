/** Human text for `mailguard status` (JSON is the GuardStatus object itself). */
import type { GuardStatus } from './guard.js';
import { formatBytes } from './mailbox.js';
import { describeSetting } from './postconf.js';

export function formatStatus(s: GuardStatus): string {
  const state = s.enabled ? 'on' : 'off';
  const lines = [`mailguard: ${state}${s.enabled && !s.managed ? ' (set outside tsfirewall)' : ''}${!s.enabled && s.managed ? ' (enabled, but main.cf was changed since; run enable again)' : ''}`];
  lines.push(`  account:  ${s.account}${s.accountExists ? '' : ' (does not exist)'}`);
  lines.push(`  postfix:  luser_relay = ${describeSetting(s.settings.luser_relay)}; local_recipient_maps = ${describeSetting(s.settings.local_recipient_maps)}`);
  const box = s.mailbox;
  const count = box?.messages === undefined ? '' : `, ${box.messages} messages`;
  lines.push(`  mailbox:  ${box ? `${box.path} (${box.format}), ${formatBytes(box.bytes)}${count}` : 'none yet'}`);
  if (s.previous) {
    lines.push(`  disable restores: luser_relay ${describeSetting(s.previous.luser_relay)}; local_recipient_maps ${describeSetting(s.previous.local_recipient_maps)}`);
  }
  return lines.join('\n') + '\n';
}
