/** Reading saved iptables rulesets in tests, the way the iptables backends lay them out. */

/**
 * True when a saved ruleset closes `builtin` the way the iptables backends do, without touching its policy: our
 * marked jump at the top of the built-in enters our chain (INPUT -> tsfw-input), which ends in our marked DROP.
 */
export function closes(saved: string, builtin = 'INPUT'): boolean {
  const own = `tsfw-${builtin.toLowerCase()}`;
  const lines = saved.split('\n').map((l) => l.replace(/^\[\d+:\d+\] /, ''));
  const first = lines.find((l) => l.startsWith(`-A ${builtin} `));
  const last = lines.filter((l) => l.startsWith(`-A ${own} `)).pop();
  return first === `-A ${builtin} -m comment --comment "tsfw:jump" -j ${own}` || first === `-A ${builtin} -m comment --comment tsfw:jump -j ${own}`
    ? /--comment "?tsfw:policy"? -j DROP$/.test(last ?? '') : false;
}
