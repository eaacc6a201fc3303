/**
 * Where a verb's time goes, for the bench's stage breakdown: with TSFIREWALL_TRACE=1 each mark records
 * performance.now() (ms since this process began) and a name, and one line `tsfw-trace [[ms,"name"],...]` goes to
 * stderr at exit. Off (the default) a mark is one test of a constant: no clock read, no allocation, nothing printed.
 * The entry (boot.ts) and the CLI (core.cjs) are separate bundles, so the marks live in one array on a registered
 * symbol that both reach.
 */
type Marks = Array<[number, string]>;

const ON = process.env.TSFIREWALL_TRACE === '1';
const KEY = Symbol.for('tsfirewall.trace');

function marks(): Marks {
  const global = globalThis as { [KEY]?: Marks };
  if (global[KEY] === undefined) {
    const list: Marks = [];
    global[KEY] = list;
    process.once('exit', () => {
      list.push([performance.now(), 'exit']);
      process.stderr.write(`tsfw-trace ${JSON.stringify(list.map(([ms, name]) => [Number(ms.toFixed(3)), name]))}\n`);
    });
  }
  return global[KEY];
}

/** Records that the verb reached `name` now (a no-op unless TSFIREWALL_TRACE=1). */
export function mark(name: string): void {
  if (ON) marks().push([performance.now(), name]);
}
