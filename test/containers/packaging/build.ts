// Builds the packages the packaging tests install: the current version and a newer one (same bundle, bumped
// version) for the upgrade test, into a temp dir so dist/pkg of a developer's `npm run package` is left alone.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

export const ROOT = new URL('../../../', import.meta.url).pathname;

export interface Built {
  readonly dir: string;
  readonly version: string;
  readonly newer: string;
  readonly deb: string;
  readonly newerDeb: string;
  readonly rpm: string;
  readonly newerRpm: string;
  cleanup(): void;
}

async function buildInto(dir: string, version: string): Promise<void> {
  // `npm test` builds dist/ first; building it here would race other test files that run the bundle.
  if (!existsSync(join(ROOT, 'dist/tsfirewall.cjs'))) throw new Error('dist/tsfirewall.cjs is missing: run npm run build');
  await execa('bash', [join(ROOT, 'packaging/build.sh')], {
    cwd: ROOT, timeout: 180_000, env: { TSFW_VERSION: version, TSFW_PKG_OUT: dir },
  });
}

/** The packages are per architecture (they carry koffi's binary): this machine's, in each format's spelling. */
export const ARCH = ({ x64: { deb: 'amd64', rpm: 'x86_64' }, arm64: { deb: 'arm64', rpm: 'aarch64' } } as const)[process.arch as 'x64' | 'arm64']
  ?? { deb: process.arch, rpm: process.arch };

export async function buildPackages(): Promise<Built> {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const newer = `${version}+test2`;
  const dir = mkdtempSync('/tmp/tsfw-pkgtest.');
  await buildInto(dir, version);
  await buildInto(dir, newer);
  return {
    dir, version, newer,
    deb: `tsfirewall_${version}_${ARCH.deb}.deb`,
    newerDeb: `tsfirewall_${newer}_${ARCH.deb}.deb`,
    rpm: `tsfirewall-${version}-1.${ARCH.rpm}.rpm`,
    newerRpm: `tsfirewall-${newer}-1.${ARCH.rpm}.rpm`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
