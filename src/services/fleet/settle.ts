/**
 * A full collection once a burst of events is over. V8 collects its old generation when allocation pushes it to,
 * and an idle service allocates almost nothing after a catch-up or a 10k burst, so the garbage of that burst (every
 * event's text and objects) would otherwise stay, and the RSS with it, until the next burst. Node exposes no
 * collection without --expose-gc; the flag can be set at run time and the function fetched from a new context.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

function collector(): (() => void) | undefined {
  if (collect) return collect;
  try {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  } catch { /* no collection on demand: V8 keeps its own pace */ }
  return collect;
}

/** Calls `settle()` after a burst of at least `minEvents`, once `quietMs` passed with no new events. */
export function afterBursts(minEvents: number, quietMs: number): { event(): void; stop(): void } {
  let count = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    event() {
      count++;
      if (count < minEvents) return;
      clearTimeout(timer);
      timer = setTimeout(() => { count = 0; collector()?.(); }, quietMs);
      timer.unref();
    },
    stop() { clearTimeout(timer); },
  };
}
