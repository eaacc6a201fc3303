/**
 * Help, man page and bash completion all come from the command and option tables: every verb has `help VERB` and
 * `VERB --help`; the man page (rendered by the real man, no groff warnings) lists the same verbs and options as
 * `--help`; the completion (run in a real bash, checked by shellcheck) offers them; and a verb registered in the
 * table (as explain and diff were) shows up in all of them with nothing else to change.
 */
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { bashCompletion } from '../../../src/cli/help/completion.js';
import { manCommands, manPage } from '../../../src/cli/help/man.js';
import { usage } from '../../../src/cli/help/text.js';
import { main } from '../../../src/cli/main.js';
import { OPTIONS, type OptionSpec } from '../../../src/cli/options.js';
import { listedVerbs, VERBS } from '../../../src/cli/verbs.js';

const TEMPLATE = readFileSync(new URL('../../../packaging/tsfirewall.8.in', import.meta.url), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'tsfw-help-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let stdout: string;
beforeEach(() => {
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { stdout += String(chunk); return true; });
});
afterEach(() => { vi.restoreAllMocks(); });

async function out(args: string[]): Promise<string> {
  stdout = '';
  expect(await main(args)).toBe(0);
  return stdout;
}

/** The verbs and options `--help` lists, by section. */
function helpLists(text: string): { verbs: string[]; options: string[] } {
  const section = (title: string) => text.split(`${title}:\n`)[1]!.split('\n\n')[0]!;
  return {
    verbs: [...section('Commands').matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!),
    options: [...section('Options').matchAll(/^ {2}(?:-\w, | {4})--([a-z-]+)/gm)].map((m) => m[1]!),
  };
}

/** The verbs and options the man page's source lists: the tag line after each .TP of COMMANDS and OPTIONS. */
function manLists(page: string): { verbs: string[]; options: string[] } {
  const section = (title: string) => page.split(`.SH ${title}\n`)[1]!.split('\n.SH ')[0]!;
  const tags = (text: string) => [...text.matchAll(/^\.TP\n(.*)$/gm)].map((m) => m[1]!);
  return {
    verbs: tags(section('COMMANDS')).map((t) => /^\\fB((?:[^\\]|\\-)+)\\fR/.exec(t)![1]!.replace(/\\-/g, '-')),
    options: tags(section('OPTIONS')).map((t) => /\\fB\\-\\-((?:[^\\]|\\-)+)\\fR/.exec(t)![1]!.replace(/\\-/g, '-')),
  };
}

describe('help', () => {
  test.each(listedVerbs())('%s: "help %s" and "%s --help" print its synopsis, text and options', async (verb) => {
    const viaHelp = await out(['help', verb]);
    expect(viaHelp).toMatch(new RegExp(`^Usage: tsfirewall \\[options\\] ${verb}\\b`));
    expect(await out([verb, '--help'])).toBe(viaHelp);
    for (const [name, o] of Object.entries(OPTIONS) as [string, OptionSpec][]) {
      if (o.verbs === undefined || o.verbs.includes(verb)) expect(viaHelp).toContain(`--${name}`);
      else expect(viaHelp).not.toMatch(new RegExp(`^ +(-\\w, )?--${name}\\b`, 'm'));
    }
  });

  test('--help and help list every verb but the internal one, and every option', async () => {
    const text = await out(['--help']);
    expect(await out(['help'])).toBe(text);
    expect(helpLists(text)).toEqual({ verbs: listedVerbs(), options: Object.keys(OPTIONS) });
    expect(Object.keys(VERBS).filter((v) => VERBS[v]!.hidden).every((v) => !text.includes(v))).toBe(true);
    for (const verb of ['ban', 'unban', 'bans', 'mailguard', 'confirm', 'metrics']) expect(helpLists(text).verbs).toContain(verb);
  });
});

describe('man page', () => {
  const page = manPage(TEMPLATE);

  test('lists the same verbs and options as --help, the ones it once lacked included', async () => {
    const man = manLists(page);
    expect(man).toEqual(helpLists(await out(['--help'])));
    for (const verb of ['ban', 'unban', 'bans', 'mailguard', 'confirm']) expect(man.verbs).toContain(verb);
    for (const option of ['confirm', 'force', 'jail', 'all']) expect(man.options).toContain(option);
  });

  test('renders with the real man and no groff warning', async () => {
    const file = join(work, 'tsfirewall.8');
    writeFileSync(file, page);
    const r = await execa('man', ['--warnings', '-l', file], { env: { MANPAGER: 'cat', MANWIDTH: '80' }, timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^COMMANDS$/m);
    expect(r.stdout).toMatch(/^ {7}unban IP\|NET\.\.\. \| --all$/m);
    expect(r.stdout).toMatch(/^ {7}--jail NAME$/m);
  });

  test('a template without its markers is refused rather than shipped without commands', () => {
    expect(() => manPage(TEMPLATE.replace('@OPTIONS@\n', ''))).toThrow(/no @OPTIONS@ line/);
  });
});

describe('bash completion', () => {
  const file = join(work, 'tsfirewall.bash');
  writeFileSync(file, bashCompletion());
  /** What the completion offers for the words typed so far (the last one is being completed). */
  const complete = async (...words: string[]) => {
    const script = `source ${file}; COMP_WORDS=(tsfirewall ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; _tsfirewall; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return (await execa('bash', ['-c', script], { cwd: work, timeout: 30_000 })).stdout.split('\n').filter(Boolean);
  };

  test('shellcheck passes it', async () => {
    const r = await execa('shellcheck', [file], { reject: false, timeout: 60_000 });
    expect(r.exitCode, r.stdout).toBe(0);
  });

  test('verbs, a verb\'s own options, its first words, and file names for a PATH', async () => {
    expect(await complete('ba')).toEqual(['bans', 'ban']);
    expect(await complete('unban', '--')).toEqual(expect.arrayContaining(['--jail', '--all', '--config', '--json']));
    expect(await complete('unban', '--')).not.toContain('--early');
    expect(await complete('mailguard', '')).toEqual(['enable', 'disable', 'status']);
    expect(await complete('--config', '/x', 'help', 'me')).toEqual(['metrics']);
    expect(await complete('metrics', '--textfile', 'tsfirewall.b')).toEqual(['tsfirewall.bash']);
  });
});

test('a verb registered in the table is in the help, the man page and the completion, with nothing else to change', () => {
  const table = VERBS as Record<string, (typeof VERBS)[string]>;
  table.frobnicate = { load: () => Promise.reject(new Error('not loaded here')), args: '--src IP', summary: 'why this packet gets this verdict', text: ['Names the rule.'] };
  try {
    expect(usage()).toMatch(/^ {2}frobnicate --src IP +why this packet gets this verdict$/m);
    expect(manCommands()).toContain('\\fBfrobnicate\\fR \\-\\-src \\fIIP\\fR\nNames the rule.');
    expect(bashCompletion()).toMatch(/local verbs=".* frobnicate"/);
  } finally {
    delete table.frobnicate;
  }
});
