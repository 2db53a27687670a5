/** The shells `opsctl completion` writes a script for (README, "Shell completion"). */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * The completion script of a shell. Each asks `opsctl __complete <shell> -- <words>` what may come at the cursor,
 * so what it offers is always the installed opsctl's own command table (and the app's packages and pipelines).
 */
export function completionScript(shell: Shell): string {
  return SCRIPTS[shell];
}

const SCRIPTS: Record<Shell, string> = {
  bash: `# opsctl completion for bash. Install: opsctl completion bash > ~/.local/share/bash-completion/completions/opsctl
# (or add \`source <(opsctl completion bash)\` to ~/.bashrc)
_opsctl_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(opsctl __complete bash -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _opsctl_complete opsctl
`,
  zsh: `#compdef opsctl
# opsctl completion for zsh. Install: opsctl completion zsh > "\${fpath[1]}/_opsctl" (then restart zsh)
# (or add \`source <(opsctl completion zsh)\` to ~/.zshrc after compinit)
_opsctl() {
  local -a candidates
  candidates=("\${(@f)$(opsctl __complete zsh -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  candidates=("\${(@)candidates:#}")
  if (( \${#candidates} )); then
    _describe -t values opsctl candidates
  else
    _files
  fi
}
if [[ "\${funcstack[1]}" == "_opsctl" ]]; then
  _opsctl "$@"
else
  compdef _opsctl opsctl
fi
`,
  fish: `# opsctl completion for fish. Install: opsctl completion fish > ~/.config/fish/completions/opsctl.fish
function __opsctl_complete
    set -l words (commandline -opc)
    set -e words[1]
    opsctl __complete fish -- $words (commandline -ct) 2>/dev/null
end
complete -c opsctl -f -a '(__opsctl_complete)'
`,
};

/** One candidate as the shell's script reads it: bash the value, zsh `value:description`, fish `value<TAB>description`. */
export function formatCandidate(shell: Shell, value: string, description: string): string {
  const text = description.replace(/\s+/g, ' ');
  if (shell === 'zsh') return `${value.replace(/:/g, '\\:')}:${text}`;
  if (shell === 'fish') return `${value}\t${text}`;
  return value;
}
