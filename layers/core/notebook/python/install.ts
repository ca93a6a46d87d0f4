/**
 * Package installs inside notebooks (`%pip install`, `!pip install`, `!python -m pip install`,
 * `%conda install`, `%%bash` lines...) and which of their packages are not pinned to a version.
 */
import type { Command } from './notebook-code';

export interface InstallCommand {
  tool: 'pip' | 'conda';
  /** The command, for messages (`%pip install x`, or a shell command without its `!`). */
  text: string;
  /** Installs from a requirements/environment file (`-r file`, `--file file`). */
  fromFile: boolean;
  /** Package specs named on the command line. */
  packages: string[];
  /** The specs that do not pin one version (`numpy`, `numpy>=1.2`, `git+https://...` without a ref). */
  unpinned: string[];
}

/** pip install options that take a value (the value is not a package). */
const PIP_VALUE_OPTIONS = new Set([
  '-i',
  '--index-url',
  '--extra-index-url',
  '-c',
  '--constraint',
  '-t',
  '--target',
  '--prefix',
  '--root',
  '-f',
  '--find-links',
  '--trusted-host',
  '--python-version',
  '--platform',
  '--implementation',
  '--abi',
  '--src',
  '--upgrade-strategy',
  '--progress-bar',
  '--cache-dir',
  '--log',
  '--proxy',
  '--retries',
  '--timeout',
  '--exists-action',
  '--cert',
  '--client-cert',
  '--config-settings',
  '-C',
  '--global-option',
  '--report',
  '--only-binary',
  '--no-binary',
  '--python',
  '-p',
]);
const CONDA_VALUE_OPTIONS = new Set(['-c', '--channel', '-n', '--name', '-p', '--prefix', '--repodata-fn']);

/** Splits a shell command line into words, honouring quotes (no expansion). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (has || word) words.push(word);
      word = '';
      has = false;
    } else {
      word += c;
    }
  }
  if (has || word) words.push(word);
  return words;
}

/** Splits a shell line into simple commands at `&&`, `||`, `;` and `|` outside quotes. */
function simpleCommands(text: string): string[] {
  const parts: string[] = [];
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ';' || c === '|' || (c === '&' && text[i + 1] === '&')) {
      parts.push(text.slice(start, i));
      if (text[i + 1] === c) i++;
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const PYTHON_EXECUTABLE = /^(?:python[\d.]*|\{sys\.executable\}|\$\{?PYTHON\}?|.*\/python[\d.]*)$/;

/** The install a shell command or magic performs, if any. */
export function installsIn(command: Command): InstallCommand[] {
  if (command.kind === 'magic') {
    const words = shellWords(command.text);
    const text = `%${command.name} ${command.text}`;
    if (command.name === 'pip' && words[0] === 'install') return [parse('pip', text, words.slice(1))];
    if (command.name === 'uv' && words[0] === 'pip' && words[1] === 'install') {
      return [parse('pip', text, words.slice(2))];
    }
    if (['conda', 'mamba', 'micromamba'].includes(command.name ?? '') && words[0] === 'install') {
      return [parse('conda', text, words.slice(1))];
    }
    return [];
  }
  const installs: InstallCommand[] = [];
  for (const part of simpleCommands(command.text)) {
    let words = shellWords(part.trim());
    while (words[0] === 'sudo' || /^[A-Za-z_]\w*=/.test(words[0] ?? '')) words = words.slice(1);
    const text = part.trim();
    const [a, b, c, d] = words;
    if (a && /^pip[\d.]*$/.test(a) && b === 'install') installs.push(parse('pip', text, words.slice(2)));
    else if (a && PYTHON_EXECUTABLE.test(a) && b === '-m' && c === 'pip' && d === 'install') {
      installs.push(parse('pip', text, words.slice(4)));
    } else if (a === 'uv' && b === 'pip' && c === 'install')
      installs.push(parse('pip', text, words.slice(3)));
    else if (a && ['conda', 'mamba', 'micromamba'].includes(a) && b === 'install') {
      installs.push(parse('conda', text, words.slice(2)));
    }
  }
  return installs;
}

function parse(tool: 'pip' | 'conda', text: string, args: string[]): InstallCommand {
  const result: InstallCommand = { tool, text, fromFile: false, packages: [], unpinned: [] };
  const valueOptions = tool === 'pip' ? PIP_VALUE_OPTIONS : CONDA_VALUE_OPTIONS;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('-')) {
      if (arg === '-r' || arg === '--requirement' || (tool === 'conda' && arg === '--file')) {
        result.fromFile = true;
        i++;
      } else if (/^-r./.test(arg) || arg.startsWith('--requirement=') || arg.startsWith('--file=')) {
        result.fromFile = true;
      } else if (arg === '-e' || arg === '--editable') {
        i++; // an editable install of a local project or VCS checkout: its version is the checkout
      } else if (valueOptions.has(arg)) i++;
      continue;
    }
    if (arg.includes('{') || arg.startsWith('$')) continue; // computed at run time: cannot judge
    result.packages.push(arg);
    if (args[i + 1] === '@') {
      i += 2; // `name @ url`: a direct reference
      continue;
    }
    if (!(tool === 'pip' ? pipPinned(arg) : condaPinned(arg))) result.unpinned.push(arg);
  }
  return result;
}

function pipPinned(spec: string): boolean {
  const requirement = spec.split(';')[0]!.trim();
  if (/===?\s*[^=*\s]+$/.test(requirement) && !requirement.endsWith('.*')) return true;
  if (/^(\.{0,2}\/|~\/|[A-Za-z]:\\)/.test(requirement) || requirement === '.') return true; // local path
  if (/\.(whl|tar\.gz|zip|tar\.bz2)(#.*)?$/.test(requirement)) return true; // a file has one version
  if (
    /^(git|hg|svn|bzr)\+/.test(requirement) ||
    requirement.includes(' @ ') ||
    /^[\w.-]+@/.test(requirement)
  ) {
    // VCS: pinned when a ref follows the repository path (`repo.git@v1.2`, `@<sha>`).
    const path = requirement.replace(/^[\w.-]+\s*@\s*/, '').replace(/#.*$/, '');
    const lastSlash = path.lastIndexOf('/');
    return path.slice(lastSlash + 1).includes('@');
  }
  return false;
}

function condaPinned(spec: string): boolean {
  // `pkg=1.2`, `pkg==1.2`, `pkg=1.2=build`, `channel::pkg=1.2`; not `pkg>=1.2` nor `pkg=1.*`.
  return /^[^<>=!~*]+==?\d[^*]*$/.test(spec);
}
