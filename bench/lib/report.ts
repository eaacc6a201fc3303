/** The markdown record of a run: one goal table (PASS/MISS), then per-panel medians and spreads, then notes. */
import type { SectionResult } from './results.js';

export interface RunInfo {
  readonly date: string;
  readonly mode: 'full' | 'quick';
  readonly seed: number;
  readonly seconds: number;
  readonly machine: string;
  readonly commit: string;
  readonly load: string;
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? 'info' : pass ? '**PASS**' : '**MISS**');
const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));

export function markdown(info: RunInfo, sections: readonly SectionResult[]): string {
  const out = [
    '# tsfirewall benchmark results',
    '',
    `${info.date} · ${info.mode} run · ${info.seconds.toFixed(0)} s · seed ${info.seed} · commit ${info.commit} · ${info.machine} · load average ${info.load}`,
    '',
    'Medians of interleaved rounds (order shuffled each round); ratios are medians of per-round ratios, so drift',
    'from other load cancels. IQR = 25th–75th percentile. Everything ran inside throwaway network namespaces.',
    '',
    '| Goal | Measured | Result |',
    '| --- | --- | --- |',
    ...sections.flatMap((s) => s.rows.map((r) => `| ${r.goal} | ${r.value} | ${verdict(r.pass)} |`)),
    '',
    '![chart](latest.svg)',
    '',
    '## Details',
  ];
  for (const s of sections) {
    for (const p of s.panels) {
      out.push('', `### ${p.title}`, '', `| | median (${p.unit}) | IQR | min–max | n |`, '| --- | --- | --- | --- | --- |');
      for (const b of p.bars) {
        const m = b.summary;
        out.push(`| ${b.label}${b.extrapolated ? ' (extrapolated)' : ''} | ${num(m.median)} | ${num(m.p25)}–${num(m.p75)} | ${num(m.min)}–${num(m.max)} | ${m.n} |`);
      }
    }
    for (const n of s.notes) out.push('', `- ${n}`);
  }
  return out.join('\n') + '\n';
}
