/**
 * A hand-rolled SVG chart: one panel per measurement, horizontal bars at the median with an IQR whisker, a log
 * axis where values span orders of magnitude, and the goal as a dashed line. No dependency, readable as text.
 */
import type { Bar, Panel } from './results.js';

const W = 920;
const LABEL = 210;
const PLOT = 540;
const BAR_H = 16;
const GAP = 6;
const HEAD = 34;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Ours in blue, floors in grey, the methods we replace in orange. */
function colour(label: string): string {
  if (/node -e 0|iptables-restore$|: iptables-restore/.test(label)) return '#9aa0a6';
  if (/per-rule|per-IP|chain/.test(label)) return '#e8710a';
  return '#1a73e8';
}

function scaler(panel: Panel): (x: number) => number {
  const values = panel.bars.flatMap((b) => [b.summary.p75, b.summary.max, b.summary.median]).concat(panel.goal ? [panel.goal.value] : []);
  const max = Math.max(...values.filter(Number.isFinite), 1e-9) * 1.05;
  if (!panel.log) return (x) => (Math.max(0, x) / max) * PLOT;
  const min = Math.max(1e-3, Math.min(...panel.bars.map((b) => b.summary.min).filter((x) => x > 0)) / 2);
  const [lo, hi] = [Math.log10(min), Math.log10(max)];
  return (x) => (x <= min ? 0 : ((Math.log10(x) - lo) / (hi - lo)) * PLOT);
}

function panelSvg(panel: Panel, top: number): { svg: string; height: number } {
  const x = scaler(panel);
  const parts = [`<text x="10" y="${top + 20}" font-weight="bold">${esc(panel.title)}</text>`];
  panel.bars.forEach((b: Bar, i) => {
    const y = top + HEAD + i * (BAR_H + GAP);
    const s = b.summary;
    const fill = colour(b.label);
    parts.push(
      `<text x="${LABEL - 8}" y="${y + BAR_H - 4}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${LABEL}" y="${y}" width="${x(s.median).toFixed(1)}" height="${BAR_H}" fill="${fill}"${b.extrapolated ? ' fill-opacity="0.45" stroke="' + fill + '" stroke-dasharray="4 2"' : ''}/>`,
      `<line x1="${(LABEL + x(s.p25)).toFixed(1)}" x2="${(LABEL + x(s.p75)).toFixed(1)}" y1="${y + BAR_H / 2}" y2="${y + BAR_H / 2}" stroke="#202124" stroke-width="1.5"/>`,
      `<text x="${(LABEL + x(Math.max(s.median, s.p75)) + 6).toFixed(1)}" y="${y + BAR_H - 4}">${num(s.median)} ${esc(panel.unit)}${b.extrapolated ? ' (extrap.)' : ''}</text>`,
    );
  });
  const height = HEAD + panel.bars.length * (BAR_H + GAP) + 14;
  if (panel.goal) {
    const gx = (LABEL + x(panel.goal.value)).toFixed(1);
    // The goal's label goes under the bars, where it cannot run into the panel title.
    parts.push(`<line x1="${gx}" x2="${gx}" y1="${top + HEAD - 6}" y2="${top + height - 4}" stroke="#d93025" stroke-dasharray="5 3"/>`,
      `<text x="${gx}" y="${top + height + 8}" fill="#d93025" text-anchor="middle" font-size="11">goal: ${esc(panel.goal.label)}</text>`);
  }
  return { svg: parts.join('\n'), height: height + (panel.goal ? 14 : 0) };
}

export function chart(panels: readonly Panel[], caption: string): string {
  let top = 30;
  const body: string[] = [];
  for (const p of panels) {
    const { svg, height } = panelSvg(p, top);
    body.push(svg);
    top += height;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${top + 10}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="13" fill="#5f6368">${esc(caption)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
