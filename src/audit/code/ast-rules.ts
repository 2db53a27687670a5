import { type CodeRule, isPlaceholder, isSecretEnvName, isSecretIdentifier, RULES } from './rules.js';

/** A finding at an offset of the file. */
export interface AstHit {
  rule: CodeRule;
  offset: number;
}

// ESTree as oxc-parser returns it: only the fields these rules read
interface Node {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

const KEY_BYTES: Array<[RegExp, number]> = [
  [/^aes-?128|^aes128|^id-aes128/i, 16],
  [/^aes-?192|^aes192/i, 24],
  [/^aes-?256|^aes256|^chacha20|^id-aes256/i, 32],
  [/^des-ede3|^des3/i, 24],
];

/**
 * Text any of the rules below needs to find something: a file without it is not parsed. A superset, never the
 * decision (the parser decides): the calls the crypto rules look at, process.env, the TLS names, the words isSecretIdentifier ends with.
 */
export const CANDIDATE =
  /createCipher|createDecipher|createHash|createHmac|pbkdf2|jwt|process\.env|rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED|secret|passw|pwd|passphrase|token|credential|(api|private|secret|encryption|signing|access|master|crypto|aes|hmac|jwt|session|cipher)[_-]?key/i;

/**
 * The code rules over one parsed file (README, "`opsctl audit`", code audit). Bindings are resolved by name through
 * every `const`/`let` of the file, which is enough for how crypto code is written (one module, few names).
 */
export function checkProgram(program: Node, options: { testFile?: boolean } = {}): AstHit[] {
  const hits: AstHit[] = [];
  const bindings = new Map<string, { init: Node; topLevel: boolean }>();
  const calls: Node[] = [];
  let usesHmac = false;
  const top = new Set(((program.body as Node[]) ?? []).flatMap(declaratorsOf));

  walk(program, (node, parent) => {
    switch (node.type) {
      case 'VariableDeclarator': {
        const id = node.id as Node;
        const init = node.init as Node | null;
        if (id.type === 'ObjectPattern' && init && isProcessEnv(init)) {
          // const { JWT_SECRET = 'dev' } = process.env: a fallback as much as `process.env.JWT_SECRET || 'dev'`
          for (const p of id.properties as Node[]) {
            const key = p.key as Node | undefined;
            const value = p.value as Node | undefined;
            const name = key?.type === 'Identifier' ? (key.name as string) : stringValue(key);
            const fallback = value?.type === 'AssignmentPattern' ? (value.right as Node) : undefined;
            if (name && isSecretEnvName(name) && isSecretLiteral(fallback)) {
              hits.push({ rule: RULES.envFallback, offset: fallback!.start });
            }
          }
        }
        if (id.type === 'Identifier' && init) {
          bindings.set(id.name as string, { init, topLevel: top.has(node) });
          if (!options.testFile && isSecretIdentifier(id.name as string) && isSecretValue(init)) {
            hits.push({ rule: RULES.hardcodedKey, offset: init.start });
          }
        }
        break;
      }
      case 'Property': {
        const key = node.key as Node;
        const name = key.type === 'Identifier' ? (key.name as string) : key.type === 'Literal' ? String(key.value) : '';
        const value = node.value as Node;
        if (name === 'rejectUnauthorized' && value.type === 'Literal' && value.value === false) {
          hits.push({ rule: RULES.tlsOff, offset: node.start });
        } else if (
          !options.testFile &&
          isSecretIdentifier(name) &&
          isSecretValue(value) &&
          parent?.type === 'ObjectExpression'
        ) {
          hits.push({ rule: RULES.hardcodedKey, offset: value.start });
        }
        break;
      }
      case 'LogicalExpression': {
        const env = envName(node.left as Node);
        const right = node.right as Node;
        if (
          (node.operator === '||' || node.operator === '??') &&
          env &&
          isSecretEnvName(env) &&
          isSecretLiteral(right)
        ) {
          hits.push({ rule: RULES.envFallback, offset: right.start });
        }
        break;
      }
      case 'AssignmentExpression': {
        const right = node.right as Node;
        if (
          envName(node.left as Node) === 'NODE_TLS_REJECT_UNAUTHORIZED' &&
          right.type === 'Literal' &&
          String(right.value) === '0'
        ) {
          hits.push({ rule: RULES.tlsOff, offset: node.start });
        }
        break;
      }
      case 'CallExpression': {
        const name = calleeName(node);
        if (name === 'createHmac') usesHmac = true;
        calls.push(node);
        break;
      }
    }
  });

  const resolve = (n: Node | undefined): Node | undefined => {
    let cur = n;
    for (let i = 0; cur?.type === 'Identifier' && i < 5; i++) cur = bindings.get(cur.name as string)?.init;
    return cur;
  };

  for (const call of calls) {
    const name = calleeName(call);
    const args = call.arguments as Node[];
    if (name === 'createCipher' || name === 'createDecipher') {
      hits.push({ rule: RULES.deprecatedCipher, offset: call.start });
    } else if (name === 'createCipheriv' || name === 'createDecipheriv') {
      const algo = stringValue(resolve(args[0]));
      if (algo && /-ecb$|^des$/i.test(algo)) hits.push({ rule: RULES.ecb, offset: call.start });
      if (algo && /-cbc$/i.test(algo) && !usesHmac) hits.push({ rule: RULES.cbcNoAuth, offset: call.start });
      checkKey(args[1], algo, resolve, hits);
      // ECB takes no IV (null); every other mode needs a fresh one
      if (name === 'createCipheriv' && !(algo && /-ecb$/i.test(algo))) checkIv(args[2], bindings, resolve, hits);
    } else if (name === 'createHash') {
      const algo = stringValue(resolve(args[0]))?.toLowerCase();
      if ((algo === 'md5' || algo === 'sha1' || algo === 'md4') && hashesSecret(call)) {
        hits.push({ rule: RULES.weakHash, offset: call.start });
      }
    } else if (name === 'pbkdf2' || name === 'pbkdf2Sync') {
      const digest = stringValue(resolve(args[4]))?.toLowerCase();
      if (digest === 'md5' || digest === 'sha1') hits.push({ rule: RULES.weakHash, offset: call.start });
    } else if (name === 'createHmac' || ((name === 'sign' || name === 'verify') && calleeObject(call) === 'jwt')) {
      const key = resolve(args[1]);
      if (key && isSecretLiteral(key)) hits.push({ rule: RULES.hardcodedKey, offset: key.start });
    }
  }
  // one finding per rule and place (a literal key reached from two calls is one finding)
  const seen = new Set<string>();
  return hits.filter((h) => !seen.has(`${h.rule.id}@${h.offset}`) && Boolean(seen.add(`${h.rule.id}@${h.offset}`)));
}

function checkKey(
  keyArg: Node | undefined,
  algo: string | undefined,
  resolve: (n: Node | undefined) => Node | undefined,
  hits: AstHit[],
): void {
  const key = resolve(keyArg);
  if (!key || !keyArg) return;
  if (isSecretLiteral(key) || (isBufferFrom(key) && isSecretLiteral(resolve((key.arguments as Node[])[0])))) {
    hits.push({ rule: RULES.hardcodedKey, offset: key.start }); // where the literal is written
  }
  const needed = algo ? KEY_BYTES.find(([re]) => re.test(algo))?.[1] : undefined;
  const length = byteLength(key, resolve);
  if (needed && length !== undefined && length < needed) hits.push({ rule: RULES.shortKey, offset: keyArg.start });
}

function checkIv(
  ivArg: Node | undefined,
  bindings: Map<string, { init: Node; topLevel: boolean }>,
  resolve: (n: Node | undefined) => Node | undefined,
  hits: AstHit[],
): void {
  if (!ivArg) return;
  const iv = resolve(ivArg);
  if (!iv) return;
  const fixed =
    iv.type === 'Literal' ||
    (iv.type === 'TemplateLiteral' && (iv.expressions as Node[]).length === 0) ||
    (isBufferFrom(iv) && isConstant(resolve((iv.arguments as Node[])[0]))) ||
    ['alloc', 'allocUnsafe'].includes(calleeName(iv) ?? '') ||
    (iv.type === 'NewExpression' && (iv.arguments as Node[]).length === 1);
  if (fixed) {
    hits.push({ rule: RULES.staticIv, offset: ivArg.start });
    return;
  }
  const binding = ivArg.type === 'Identifier' ? bindings.get(ivArg.name as string) : undefined;
  if (binding?.topLevel && calleeName(iv) === 'randomBytes') hits.push({ rule: RULES.reusedIv, offset: ivArg.start });
}

/** Bytes a key expression holds, when it says so plainly: `randomBytes(16)`, `Buffer.from('…', 'hex')`, `'…'`. */
function byteLength(node: Node, resolve: (n: Node | undefined) => Node | undefined): number | undefined {
  const name = calleeName(node);
  const args = (node.arguments as Node[] | undefined) ?? [];
  if (name === 'randomBytes' || name === 'alloc' || name === 'allocUnsafe') return numberValue(resolve(args[0]));
  if (name === 'scryptSync' || name === 'pbkdf2Sync') return numberValue(resolve(args[name === 'scryptSync' ? 2 : 3]));
  if (isBufferFrom(node)) {
    const text = stringValue(resolve(args[0]));
    const encoding = stringValue(resolve(args[1]));
    if (text === undefined) return undefined;
    return Buffer.from(text, (encoding as BufferEncoding) ?? 'utf8').length;
  }
  const text = stringValue(node);
  return text === undefined ? undefined : Buffer.byteLength(text);
}

/** `createHash('md5').update(password)`, or a hash assigned to / computed in something named for a secret. */
function hashesSecret(call: Node): boolean {
  const parentCall = (call as { parentCall?: Node }).parentCall;
  const update = parentCall && calleeName(parentCall) === 'update' ? (parentCall.arguments as Node[])[0] : undefined;
  const named = update ? nameOf(update) : undefined;
  if (named && /pass|secret|key|token|credential|pin$/i.test(named)) return true;
  const context = (call as { context?: string }).context;
  return Boolean(context && /pass|secret|key|token|credential/i.test(context));
}

function walk(root: Node, visit: (node: Node, parent: Node | undefined) => void): void {
  const stack: Array<[Node, Node | undefined, string | undefined]> = [[root, undefined, undefined]];
  while (stack.length) {
    const [node, parent, context] = stack.pop()!;
    visit(node, parent);
    let ctx = context;
    if (node.type === 'VariableDeclarator' && (node.id as Node).type === 'Identifier')
      ctx = (node.id as Node).name as string;
    if ((node.type === 'FunctionDeclaration' || node.type === 'MethodDefinition') && node.id) {
      ctx = ((node.id as Node).name as string) ?? ctx;
    }
    if (node.type === 'CallExpression') {
      (node as { context?: string }).context = ctx;
      // remember `x.update(arg)` for the call `x` is: createHash(...).update(password)
      const callee = node.callee as Node;
      if (callee.type === 'MemberExpression' && (callee.object as Node).type === 'CallExpression') {
        (callee.object as Node as { parentCall?: Node }).parentCall = node;
      }
    }
    for (const key in node) {
      if (key === 'parentCall') continue;
      const value = node[key];
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) {
          const child = value[i] as Node | null;
          if (child && typeof child.type === 'string') stack.push([child, node, ctx]);
        }
      } else if (value && typeof value === 'object' && typeof (value as Node).type === 'string') {
        stack.push([value as Node, node, ctx]);
      }
    }
  }
}

function declaratorsOf(statement: Node): Node[] {
  const decl = statement.type === 'ExportNamedDeclaration' ? (statement.declaration as Node | null) : statement;
  return decl?.type === 'VariableDeclaration' ? (decl.declarations as Node[]) : [];
}

function calleeName(node: Node): string | undefined {
  if (node.type !== 'CallExpression' && node.type !== 'NewExpression') return undefined;
  const callee = node.callee as Node;
  if (callee.type === 'Identifier') return callee.name as string;
  if (callee.type === 'MemberExpression' && !callee.computed) return (callee.property as Node).name as string;
  return undefined;
}

function calleeObject(node: Node): string | undefined {
  const callee = node.callee as Node;
  return callee.type === 'MemberExpression' ? nameOf(callee.object as Node) : undefined;
}

function nameOf(node: Node): string | undefined {
  if (node.type === 'Identifier') return node.name as string;
  if (node.type === 'MemberExpression' && !node.computed) return (node.property as Node).name as string;
  return undefined;
}

/** `process.env` itself. */
function isProcessEnv(node: Node): boolean {
  return node.type === 'MemberExpression' && nameOf(node) === 'env' && nameOf(node.object as Node) === 'process';
}

/** `process.env.NAME` / `process.env['NAME']` → NAME. */
function envName(node: Node): string | undefined {
  if (node.type !== 'MemberExpression') return undefined;
  const object = node.object as Node;
  if (object.type !== 'MemberExpression' || nameOf(object) !== 'env' || nameOf(object.object as Node) !== 'process') {
    return undefined;
  }
  const property = node.property as Node;
  return node.computed ? stringValue(property) : (property.name as string);
}

function isBufferFrom(node: Node): boolean {
  return calleeName(node) === 'from' && calleeObject(node) === 'Buffer';
}

function stringValue(node: Node | undefined): string | undefined {
  if (node?.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node?.type === 'TemplateLiteral' && (node.expressions as Node[]).length === 0) {
    return ((node.quasis as Node[])[0]?.value as { cooked?: string })?.cooked;
  }
  return undefined;
}

function numberValue(node: Node | undefined): number | undefined {
  return node?.type === 'Literal' && typeof node.value === 'number' ? node.value : undefined;
}

function isConstant(node: Node | undefined): boolean {
  return stringValue(node) !== undefined || node?.type === 'ArrayExpression';
}

/** What a secret-named variable holds when it is a secret: not an e-mail address (a test's plaintext), not a URL. */
function isSecretValue(node: Node | undefined): boolean {
  const text = stringValue(node);
  return isSecretLiteral(node) && !/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(text!) && !/^[a-z]+:\/\/[^@]*$/i.test(text!);
}

/** A non-empty string literal that is not a placeholder. */
function isSecretLiteral(node: Node | undefined): boolean {
  const text = stringValue(node);
  return text !== undefined && !isPlaceholder(text);
}
