/**
 * Metric families -> the Prometheus text exposition format, through prom-client (escaping, HELP and TYPE lines,
 * number formatting are its job), in a registry of this call's own: nothing global, no default metrics.
 */
import type { MetricFamily } from './families.js';

export async function exposition(families: readonly MetricFamily[]): Promise<string> {
  const { Counter, Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  for (const f of families) {
    const labelNames = [...new Set(f.samples.flatMap((s) => Object.keys(s.labels)))];
    const common = { name: f.name, help: f.help, labelNames, registers: [registry] };
    if (f.type === 'counter') {
      const counter = new Counter(common);
      for (const s of f.samples) counter.inc(s.labels, s.value);
    } else {
      const gauge = new Gauge(common);
      for (const s of f.samples) gauge.set(s.labels, s.value);
    }
  }
  return registry.metrics();
}
