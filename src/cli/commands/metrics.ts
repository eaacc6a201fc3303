/**
 * metrics [--textfile PATH]: the firewall's counters and state in the Prometheus text format (src/metrics/), on
 * stdout, or written atomically to PATH for node_exporter's textfile collector (what tsfirewall-metrics.timer
 * runs). Reads only, takes no lock: a scrape never waits on, or holds up, a reload.
 */
import { exposition } from '../../metrics/expose.js';
import { metricFamilies } from '../../metrics/families.js';
import { sampleMetrics } from '../../metrics/sample.js';
import { writeTextfile } from '../../metrics/textfile.js';
import type { Command } from '../context.js';

const metrics: Command = async (ctx) => {
  const text = await exposition(metricFamilies(await sampleMetrics(ctx.configPath)));
  if (ctx.textfile === undefined) process.stdout.write(text);
  else writeTextfile(ctx.textfile, text);
  return 0;
};

export default metrics;
