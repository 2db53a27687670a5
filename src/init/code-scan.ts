// The parser, not patterns over text: `process.env.PORT || 4000` and `listen(4000)` are found however they are
// spread over lines, and a port in a comment or a string is not.
import { posix } from 'node:path';

type Parse = typeof import('oxc-parser').parseSync;

/** ESTree as oxc-parser returns it: only the fields read here. */
interface Node {
  type: string;
  start: number;
  [key: string]: unknown;
}

/** What one source file shows: ports and health paths with their offsets, and the env variables it reads. */
export interface CodeFacts {
  ports: Array<{ port: number; offset: number }>;
  health: Array<{ path: string; offset: number }>;
  envNames: Set<string>;
}

/** A route path that answers health probes: `'/health'`, `'GET /healthz'`, `'/api/health'` (most usual first). */
const HEALTH_NAMES = ['health', 'healthz', 'healthcheck', 'api/health', 'livez', 'readyz', 'ready', 'ping'];
const HEALTH = new RegExp(`^(?:(?:GET|HEAD|ALL)\\s+)?(/(?:${HEALTH_NAMES.join('|')}))$`, 'i');

/** Rank of a health path: the lower, the more likely it is the app's health route. */
export function healthRank(path: string): number {
  return HEALTH_NAMES.indexOf(path.slice(1).toLowerCase());
}

/** Parse one file and collect what `init` reads from code; a file that does not parse shows nothing. */
export function scanSource(parseSync: Parse, file: string, text: string): CodeFacts {
  const facts: CodeFacts = { ports: [], health: [], envNames: new Set() };
  const ext = posix.extname(file);
  const lang = ext === '.tsx' ? 'tsx' : /ts$/.test(ext) ? 'ts' : 'jsx';
  let program: Node;
  try {
    program = parseSync(file, text, { lang }).program as unknown as Node;
  } catch {
    return facts;
  }
  walk(program, (node) => {
    const env = envName(node);
    if (env) facts.envNames.add(env);
    const port = portOf(node);
    if (port) facts.ports.push({ port, offset: node.start });
    if (node.type === 'Literal' && typeof node.value === 'string') {
      const path = HEALTH.exec(node.value)?.[1];
      if (path) facts.health.push({ path: path.toLowerCase(), offset: node.start });
    }
  });
  // in the order they appear in the file: the first port set is the one that counts
  facts.ports.sort((a, b) => a.offset - b.offset);
  facts.health.sort((a, b) => a.offset - b.offset);
  return facts;
}

/** `process.env.PORT || 4000`, `Number(process.env.PORT) ?? 4000`, `{ PORT = 4000 } = process.env`, `listen(4000)`. */
function portOf(node: Node): number | undefined {
  if (node.type === 'LogicalExpression' && (node.operator === '||' || node.operator === '??')) {
    return readsPort(node.left as Node) ? portLiteral(node.right as Node) : undefined;
  }
  if (node.type === 'Property' && keyName(node.key as Node) === 'PORT') {
    const value = node.value as Node;
    return value.type === 'AssignmentPattern' ? portLiteral(value.right as Node) : undefined;
  }
  if (node.type === 'CallExpression') {
    const callee = node.callee as Node;
    if (callee.type !== 'MemberExpression' || keyName(callee.property as Node) !== 'listen') return undefined;
    const first = (node.arguments as Node[])[0];
    return first ? portLiteral(first) : undefined;
  }
  return undefined;
}

function readsPort(node: Node): boolean {
  let found = false;
  walk(node, (n) => {
    if (envName(n) === 'PORT') found = true;
  });
  return found;
}

function portLiteral(node: Node): number | undefined {
  const value = node.type === 'Literal' ? node.value : undefined;
  const port =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

/** `process.env.NAME` or `process.env['NAME']` → NAME. */
function envName(node: Node): string | undefined {
  if (node.type !== 'MemberExpression') return undefined;
  const object = node.object as Node;
  if (object.type !== 'MemberExpression') return undefined;
  const processId = object.object as Node;
  if (processId.type !== 'Identifier' || processId.name !== 'process') return undefined;
  if (keyName(object.property as Node) !== 'env') return undefined;
  return keyName(node.property as Node);
}

function keyName(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'Identifier') return node.name as string;
  if (node.type === 'Literal' && typeof node.value === 'string') return node.value;
  return undefined;
}

function walk(root: Node, visit: (node: Node) => void): void {
  const stack: Node[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    visit(node);
    for (const key in node) {
      const value = node[key];
      const children = Array.isArray(value) ? value : [value];
      for (const child of children) {
        if (child && typeof child === 'object' && typeof (child as Node).type === 'string') stack.push(child as Node);
      }
    }
  }
}
