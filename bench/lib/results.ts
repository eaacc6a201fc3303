/**
 * What a section hands back: goal rows for the table (PASS/MISS, or info when there is no goal), bars for the
 * chart, and every raw sample for the JSON record, so a figure in the table can always be traced to its runs.
 */
import type { BenchLab } from './lab.js';
import { summarize, type Summary } from './stats.js';

export interface Row {
  readonly goal: string;
  readonly value: string;
  /** true PASS, false MISS, undefined: information only. */
  readonly pass?: boolean;
}

export interface Bar {
  readonly label: string;
  readonly summary: Summary;
  /** Extrapolated bars are drawn hatched and say so. */
  readonly extrapolated?: boolean;
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
  readonly log?: boolean;
  /** A goal drawn as a vertical line: "<= 1.5x floor" at its value. */
  readonly goal?: { readonly label: string; readonly value: number };
}

export interface SectionResult {
  readonly name: string;
  readonly rows: readonly Row[];
  readonly panels: readonly Panel[];
  /** Detail lines printed under the table (setup facts, rule counts, what was extrapolated). */
  readonly notes: readonly string[];
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface Settings {
  readonly quick: boolean;
  readonly rand: () => number;
  /** Rounds for a section in this mode. */
  rounds(full: number, quick?: number): number;
  readonly budgetMs: number;
}

export interface SectionContext {
  readonly lab: BenchLab;
  readonly settings: Settings;
  readonly log: (line: string) => void;
}

export type Section = (ctx: SectionContext) => Promise<SectionResult>;

export const bar = (label: string, samples: readonly number[], extrapolated?: boolean): Bar =>
  ({ label, summary: summarize(samples), extrapolated });

export const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
export const times = (x: number) => `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}x`;
