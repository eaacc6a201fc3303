/**
 * Full collections where the service's allocation pattern defeats V8's own pace. An idle service allocates almost
 * nothing after a catch-up or a 10k burst, so V8 never collects the garbage of that burst (every event's text and
 * objects), and the RSS keeps what it grew to until the next burst. During a long burst, V8 lets the old generation
 * grow to several times what is live before it collects, and what a 100k burst promotes (events in flight, each
 * batch's program) is nearly all garbage. Node exposes no collection without --expose-gc; the flag can be set at run
 * time and the function fetched from a new context.
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

/** A full collection now, where the runtime allows one: before and after the reconcile's one large read of the sets. */
export function collectGarbage(): void { collector()?.(); }

export interface BurstPace {
  /** A burst this long is collected after: a few events leave too little to matter. */
  readonly minEvents: number;
  /** This long with no new event ends a burst. */
  readonly quietMs: number;
  /** Within a burst, a collection after every this many events. */
  readonly everyEvents: number;
}

/** Collects once a burst of at least `minEvents` is over, and every `everyEvents` events while it lasts. */
export function afterBursts(pace: BurstPace): { event(): void; stop(): void } {
  let count = 0;
  let sinceCollected = 0;
  let timer: NodeJS.Timeout | undefined;
  const now = () => { count = 0; sinceCollected = 0; collector()?.(); };
  return {
    event() {
      count++;
      if (++sinceCollected >= pace.everyEvents) { sinceCollected = 0; collector()?.(); }
      if (count < pace.minEvents) return;
      clearTimeout(timer);
      timer = setTimeout(now, pace.quietMs);
      timer.unref();
    },
    stop() { clearTimeout(timer); },
  };
}
