/**
 * The koffi FFI package, loaded once for everything that calls C in this process: libnftables (libnftables.ts) and
 * the few libc calls that Node would otherwise reach only through a heavy module (the verb lock's socket: node:net
 * and the cluster, child_process and dgram modules its listen() loads). When koffi cannot be loaded (a platform it
 * has no binary for), ffi() says so and each caller takes its pure-Node way.
 */
import { log } from '../log.js';

export interface Koffi {
  load(path: string): { func(signature: string): (...args: unknown[]) => unknown };
  /** errno as the last call through koffi left it. */
  errno(): number;
}

/** The libc calls made through koffi; each returns what C returns (-1 and errno on failure). */
export interface Libc {
  /** pthread_sigmask(3): this thread's signal mask, from `set` (SIG_BLOCK or SIG_SETMASK), the old one into `old`. */
  readonly sigmask: (how: number, set: Buffer, old: Buffer | null) => number;
  /** sigpending(2): the signals raised while held. */
  readonly sigpending: (set: Buffer) => number;
  readonly socket: (domain: number, type: number, protocol: number) => number;
  readonly bind: (fd: number, addr: Buffer, length: number) => number;
  readonly listen: (fd: number, backlog: number) => number;
  readonly close: (fd: number) => number;
  readonly errno: () => number;
}

let loaded: Koffi | null | undefined;
let libcBound: Libc | undefined;

/**
 * koffi, or undefined when it cannot be loaded here. Its native module is required directly when it ships beside
 * the bundle (the package's own entry first loads its installer's https and zlib); from a checkout, through the
 * koffi package.
 */
export async function ffi(): Promise<Koffi | undefined> {
  if (loaded === undefined) {
    try {
      const koffi = (await import('koffi')) as unknown as Koffi & { default?: Koffi };
      loaded = typeof koffi.load === 'function' ? koffi : koffi.default!;
    } catch (err) {
      log.debug(`koffi cannot be loaded: ${(err as Error).message}`);
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** glibc's libc, bound on first use; undefined without koffi. */
export async function libc(): Promise<Libc | undefined> {
  if (libcBound) return libcBound;
  const koffi = await ffi();
  if (!koffi) return undefined;
  const lib = koffi.load('libc.so.6');
  const fn = <T>(signature: string) => lib.func(signature) as T;
  libcBound = {
    sigmask: fn('int pthread_sigmask(int how, const void *set, void *oldset)'),
    sigpending: fn('int sigpending(void *set)'),
    socket: fn('int socket(int domain, int type, int protocol)'),
    bind: fn('int bind(int fd, const void *addr, uint32_t len)'),
    listen: fn('int listen(int fd, int backlog)'),
    close: fn('int close(int fd)'),
    errno: () => koffi.errno(),
  };
  return libcBound;
}
