/**
 * One blocklist download: Node's own fetch (no program, no dependency), bounded in time (BLOCKLIST_FETCH_TIMEOUT,
 * for the whole exchange) and in size (BLOCKLIST_FETCH_MAX_BYTES, counted as the body arrives, so a server that
 * never stops sending costs at most that much memory). Only a 200 with UTF-8 text is a list.
 */
import { isUtf8 } from 'node:buffer';

export class FetchError extends Error {}

/**
 * Node 18 marks fetch experimental and prints a warning on its first use; the product runs there (Debian 12), and
 * that line would read as a fault in every timer run's log.
 */
function quietFetch(): typeof fetch {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String((warning as Error).message ?? warning).includes('Fetch API')) return;
    (emit as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  return (input, init) => {
    try {
      return fetch(input, init);
    } finally {
      process.emitWarning = emit;
    }
  };
}

export async function fetchList(url: string, limits: { readonly timeoutSeconds: number; readonly maxBytes: number }): Promise<string> {
  const signal = AbortSignal.timeout(limits.timeoutSeconds * 1000);
  let response: Response;
  try {
    response = await quietFetch()(url, { signal, redirect: 'follow', headers: { accept: 'text/plain, */*' } });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    throw new FetchError(e.name === 'TimeoutError' ? `no answer within ${limits.timeoutSeconds} s` : e.cause?.code ?? e.cause?.message ?? e.message);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchError(`the server answered ${response.status} ${response.statusText}`.trim());
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new FetchError(`the list is over ${limits.maxBytes} bytes (BLOCKLIST_FETCH_MAX_BYTES)`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof FetchError) throw err;
    const e = err as Error;
    throw new FetchError(e.name === 'TimeoutError' || e.name === 'AbortError' ? `no complete answer within ${limits.timeoutSeconds} s` : e.message);
  }
  const bytes = Buffer.concat(chunks);
  if (!isUtf8(bytes)) throw new FetchError('the answer is not UTF-8 text');
  return bytes.toString('utf8');
}
