// Writes the copyright file for the packages: tsfirewall's own MIT licence, then every npm package the bundle
// really contains (asked from esbuild's metafile, not guessed from node_modules), with its licence text, since
// MIT/ISC/BSD notices must travel with the code that esbuild copied into dist/.
// Usage: node packaging/licenses.mjs OUT_FILE
import { bundle } from '../scripts/bundle.mjs';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = process.argv[2];
if (!out) throw new Error('usage: node packaging/licenses.mjs OUT_FILE');

// The bundle's own inputs (not written anywhere): only the list of npm packages it contains matters here.
const { metafile } = await bundle('dist-licenses', { metafile: true, write: false });

/** node_modules/a/node_modules/@s/b/x.js -> directory of the innermost package. */
function packageDir(input) {
  const parts = input.split('/');
  const i = parts.lastIndexOf('node_modules');
  return parts.slice(0, i + (parts[i + 1]?.startsWith('@') ? 3 : 2)).join('/');
}

// koffi ships apart from the bundle, as its binary (scripts/bundle.mjs): it is in no metafile.
const APART = ['node_modules/koffi'];
const dirs = [...new Set([...Object.keys(metafile.inputs).filter((p) => p.includes('node_modules/')).map(packageDir), ...APART])];
const packages = dirs.map((dir) => {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const file = readdirSync(join(root, dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name;
  return { name: pkg.name, version: pkg.version, license: String(pkg.license ?? 'UNKNOWN'), author, text: file && readFileSync(join(root, dir, file), 'utf8').replace(/\r/g, '').trim() };
}).sort((a, b) => a.name.localeCompare(b.name));

const missing = packages.filter((p) => !p.text && !/^Apache-2\.0$/.test(p.license));
if (missing.length > 0) throw new Error(`no licence file in bundled package(s): ${missing.map((p) => p.name).join(', ')}`);

const indent = (text) => text.split('\n').map((l) => (l.trim() === '' ? ' .' : ` ${l}`)).join('\n');
const MIT = readFileSync(join(dirname(new URL(import.meta.url).pathname), 'LICENSE'), 'utf8').trim();

const stanzas = [
  `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: tsfirewall\n` +
    `Comment: The JavaScript in /usr/lib/tsfirewall is an esbuild bundle of tsfirewall and the npm packages\n` +
    ` listed below; each keeps its own licence, reproduced here.`,
  `Files: *\nCopyright: 2026 tsfirewall maintainers\nLicense: MIT\n${indent(MIT)}`,
  ...packages.map((p) => {
    const head = `Files: usr/lib/tsfirewall/*\nCopyright: ${p.author ?? `the ${p.name} authors`}\nLicense: ${p.license}\n` +
      `Comment: bundled npm package ${p.name} ${p.version}`;
    // Debian ships the Apache licence once for everybody; lintian asks packages to point there.
    const common = p.license === 'Apache-2.0'
      ? '\n On Debian systems, the full text of the Apache License, Version 2.0 can be found in\n /usr/share/common-licenses/Apache-2.0.'
      : '';
    const text = p.license === 'Apache-2.0' || !p.text ? '' : `\n${indent(p.text)}`;
    return `${head}${text}${common}`;
  }),
];
writeFileSync(out, stanzas.join('\n\n') + '\n');
