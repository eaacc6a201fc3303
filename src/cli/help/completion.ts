/**
 * The bash completion script, from the verb and option tables (scripts/docs.mjs writes it at build time; both
 * packages install it): verbs, each verb's options and first words, file names for the options whose value is a
 * PATH. Plain bash, no bash-completion helpers, so it also works where only the script itself is sourced.
 */
import { OPTIONS, type OptionSpec } from '../options.js';
import { listedVerbs, VERBS } from '../verbs.js';
import { optionsOf } from './text.js';

const entries = Object.entries(OPTIONS) as [string, OptionSpec][];
const spellings = ([name, o]: [string, OptionSpec]) => [...(o.short ? [`-${o.short}`] : []), `--${name}`];

export function bashCompletion(): string {
  const verbs = listedVerbs();
  const global = entries.filter(([, o]) => o.verbs === undefined).flatMap(spellings);
  const valued = entries.filter(([, o]) => o.type === 'string');
  const paths = valued.filter(([, o]) => o.arg === 'PATH').flatMap(spellings);
  const others = valued.filter(([, o]) => o.arg !== 'PATH').flatMap(spellings);
  const cases = verbs.map((verb) => {
    const own = optionsOf(verb).filter(([, o]) => o.verbs !== undefined).flatMap(spellings);
    const w = VERBS[verb]!.words;
    const words = w === 'verbs' ? '$verbs' : (w ?? []).join(' ');
    return `\t\t${verb}) opts="${own.join(' ')}"; words="${words}" ;;`;
  });
  return `# bash completion for tsfirewall(8). Generated at build time from its command and option tables
# (src/cli/verbs.ts, src/cli/options.ts); do not edit.
# shellcheck shell=bash
_tsfirewall() {
	local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD - 1]}
	local verbs="${verbs.join(' ')}"
	local global="${global.join(' ')}"
	COMPREPLY=()
	case $prev in
		${paths.join(' | ')})
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return ;;
		${others.join(' | ')}) return ;;
	esac
	# The verb: the first word that is neither an option nor an option's value.
	local i verb='' skip=''
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ -n $skip ]]; then skip=''; continue; fi
		case \${COMP_WORDS[i]} in
			${[...paths, ...others].join(' | ')}) skip=1 ;;
			-*) ;;
			*) verb=\${COMP_WORDS[i]}; break ;;
		esac
	done
	if [[ -z $verb ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$global" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$verbs" -- "$cur")
		fi
		return
	fi
	local opts='' words=''
	case $verb in
${cases.join('\n')}
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts $global" -- "$cur")
	elif ((COMP_CWORD == i + 1)); then
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	fi
}
complete -F _tsfirewall tsfirewall
`;
}
