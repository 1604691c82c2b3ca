/**
 * Static checks of the Bicep templates in infra/bicep, on the parse tree of the real Bicep grammar
 * (tree-sitter-bicep, loaded into web-tree-sitter from its published .wasm). The Bicep compiler itself cannot run
 * here (it is downloaded from the internet), so this is what can be verified offline; `az bicep build` and
 * `az deployment group what-if` run in the user's pipeline (docs/deploy-aks.md).
 *
 * Every check returns findings with file, line and column, so a failing test says exactly what to fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Language, type Node, Parser } from 'web-tree-sitter';

export const ROOT = join(__dirname, '../..');
export const BICEP_DIR = join(ROOT, 'infra/bicep');
const GRAMMAR_WASM = join(ROOT, 'node_modules/tree-sitter-bicep/tree-sitter-bicep.wasm');

export interface Finding {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
}

export interface Decorator {
  name: string;
  args: Node[];
}

export interface ParamDecl {
  name: string;
  /** The declared type as written (`string`, `object`, `string?`, ...). */
  type: string;
  nullable: boolean;
  hasDefault: boolean;
  defaultValue: Node | null;
  decorators: Decorator[];
  node: Node;
}

export interface ModuleDecl {
  name: string;
  source: string;
  /** The module's object body (also inside `if (...) {}` and `[for ...: {}]`), null when it is not an object. */
  body: Node | null;
  node: Node;
}

export interface ResourceDecl {
  name: string;
  type: string;
  body: Node | null;
  node: Node;
}

export interface OutputDecl {
  name: string;
  value: Node;
  node: Node;
}

/**
 * `extension <alias>` (an alias from bicepconfig.json) or `extension '<registry reference>'`, optionally `as <name>`.
 * tree-sitter-bicep 1.1.0 predates the `extension` keyword (it knows only the retired `import`/`provider` forms,
 * which today's Bicep rejects), so the statement parses as one top-level ERROR node; describe() recognises exactly
 * this one-line form there and nothing else (`with {...}` configuration stays a syntax finding).
 */
export interface ExtensionDecl {
  /** The alias (`microsoftGraphV1`) or the quoted reference's text. */
  name: string;
  node: Node;
}

const EXTENSION_STATEMENT = /^extension[ \t]+([A-Za-z_][A-Za-z0-9_]*|'[^'\\\n]+')(?:[ \t]+as[ \t]+[A-Za-z_][A-Za-z0-9_]*)?$/;

export interface BicepFile {
  path: string;
  source: string;
  root: Node;
  extensions: ExtensionDecl[];
  params: ParamDecl[];
  variables: Map<string, Node>;
  resources: ResourceDecl[];
  modules: ModuleDecl[];
  outputs: OutputDecl[];
}

/** Loads the grammar once; parse() turns a file (or an inline snippet with a virtual path) into declarations. */
export class BicepParser {
  private constructor(private readonly parser: Parser) {}

  static async create(): Promise<BicepParser> {
    await Parser.init();
    const language = await Language.load(GRAMMAR_WASM);
    const parser = new Parser();
    parser.setLanguage(language);
    return new BicepParser(parser);
  }

  /** Language ABI version of the loaded grammar (web-tree-sitter refuses grammars it cannot run). */
  static async abiVersion(): Promise<number> {
    await Parser.init();
    return (await Language.load(GRAMMAR_WASM)).abiVersion;
  }

  parse(path: string, source: string = readFileSync(path, 'utf8')): BicepFile {
    const tree = this.parser.parse(source);
    if (!tree) throw new Error(`tree-sitter returned no tree for ${path}`);
    return describe(path, source, tree.rootNode);
  }
}

function describe(path: string, source: string, root: Node): BicepFile {
  const file: BicepFile = { path, source, root, extensions: [], params: [], variables: new Map(), resources: [], modules: [], outputs: [] };
  let pending: Decorator[] = [];
  for (const child of root.namedChildren) {
    if (child.type === 'comment' || child.type === 'diagnostic_comment') continue;
    if (child.type === 'decorators') {
      pending = child.namedChildren.filter((n) => n.type === 'decorator').map(toDecorator);
      continue;
    }
    const named = child.namedChildren;
    switch (child.type) {
      case 'ERROR': {
        const statement = EXTENSION_STATEMENT.exec(child.text);
        if (statement && child.startPosition.row === child.endPosition.row) {
          file.extensions.push({ name: statement[1].replace(/^'|'$/g, ''), node: child });
        }
        break;
      }
      case 'parameter_declaration': {
        const typeNode = named.find((n) => n.type === 'type');
        const hasDefault = child.children.some((n) => !n.isNamed && n.type === '=');
        file.params.push({
          name: named[0]?.text ?? '',
          type: typeNode?.text ?? '',
          nullable: typeNode?.namedChildren[0]?.type === 'nullable_type',
          hasDefault,
          defaultValue: hasDefault ? (child.lastNamedChild ?? null) : null,
          decorators: pending,
          node: child,
        });
        break;
      }
      case 'variable_declaration':
        if (named[0] && named[1]) file.variables.set(named[0].text, named[1]);
        break;
      case 'module_declaration':
        file.modules.push({
          name: named[0]?.text ?? '',
          source: stringValue(named[1]) ?? '',
          body: bodyOf(child.lastNamedChild),
          node: child,
        });
        break;
      case 'output_declaration':
        if (child.lastNamedChild) file.outputs.push({ name: named[0]?.text ?? '', value: child.lastNamedChild, node: child });
        break;
    }
    pending = [];
  }
  for (const resource of root.descendantsOfType('resource_declaration')) {
    const named = resource.namedChildren;
    file.resources.push({
      name: named[0]?.text ?? '',
      type: stringValue(named[1]) ?? named[1]?.text ?? '',
      body: bodyOf(resource.lastNamedChild),
      node: resource,
    });
  }
  return file;
}

function toDecorator(decorator: Node): Decorator {
  const call = decorator.namedChildren.find((n) => n.type === 'call_expression');
  const fn = call?.childForFieldName('function');
  const name = fn?.type === 'member_expression' ? (fn.childForFieldName('property')?.text ?? '') : (fn?.text ?? '');
  return { name, args: call?.childForFieldName('arguments')?.namedChildren ?? [] };
}

/** The object literal of a resource or module value: `{...}`, `if (c) {...}`, `[for x in xs: {...}]`. */
function bodyOf(value: Node | null | undefined): Node | null {
  if (!value) return null;
  if (value.type === 'object') return value;
  if (value.type === 'if_statement') return value.namedChildren.find((n) => n.type === 'object') ?? null;
  if (value.type === 'for_statement') return bodyOf(value.childForFieldName('body'));
  return null;
}

/** The text of a string literal without interpolation, else undefined. */
export function stringValue(node: Node | null | undefined): string | undefined {
  if (!node || node.type !== 'string') return undefined;
  let text = '';
  for (const part of node.namedChildren) {
    if (part.type === 'interpolation') return undefined;
    if (part.type === 'escape_sequence') text += unescape(part.text);
    else text += part.text;
  }
  return text;
}

function unescape(sequence: string): string {
  const escapes: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };
  return escapes[sequence] ?? sequence;
}

export interface Property {
  key: string;
  keyNode: Node;
  value: Node;
}

/** The properties of an object literal (nested resource declarations are skipped). */
export function objectProperties(object: Node): Property[] {
  const properties: Property[] = [];
  for (const property of object.namedChildren) {
    if (property.type !== 'object_property') continue;
    const keyNode = property.namedChildren[0];
    const colon = property.children.findIndex((n) => !n.isNamed && n.type === ':');
    const value = colon >= 0 ? property.children.slice(colon + 1).find((n) => n.isNamed) : undefined;
    if (!keyNode || !value || keyNode.type === 'resource_declaration') continue;
    properties.push({ key: keyNode.type === 'string' ? (stringValue(keyNode) ?? keyNode.text) : keyNode.text, keyNode, value });
  }
  return properties;
}

/** The node at a dotted path inside an object literal (`properties.networkProfile.networkPolicy`). */
export function getPath(object: Node | null | undefined, path: string): Node | undefined {
  let current: Node | undefined = object ?? undefined;
  for (const key of path.split('.')) {
    if (!current || current.type !== 'object') return undefined;
    current = objectProperties(current).find((p) => p.key === key)?.value;
  }
  return current;
}

export class NotLiteralError extends Error {}

/** Evaluates a literal expression (objects, arrays, strings without interpolation, numbers, booleans, null). */
export function literal(node: Node): unknown {
  switch (node.type) {
    case 'object':
      return Object.fromEntries(objectProperties(node).map((p) => [p.key, literal(p.value)]));
    case 'array':
      return node.namedChildren.filter((n) => n.type !== 'decorators' && n.type !== 'comment').map(literal);
    case 'string': {
      const value = stringValue(node);
      if (value === undefined) throw new NotLiteralError(`interpolated string at ${where(node)}`);
      return value;
    }
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'unary_expression':
      if (node.childForFieldName('operator')?.text === '-') return -(literal(node.childForFieldName('argument')!) as number);
      break;
  }
  throw new NotLiteralError(`not a literal (${node.type}) at ${where(node)}: ${node.text.slice(0, 60)}`);
}

function where(node: Node): string {
  return `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
}

function finding(file: BicepFile | string, node: Node | null, rule: string, message: string): Finding {
  return {
    file: relative(ROOT, typeof file === 'string' ? file : file.path),
    line: node ? node.startPosition.row + 1 : 1,
    column: node ? node.startPosition.column + 1 : 1,
    rule,
    message,
  };
}

export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `${f.file}:${f.line}:${f.column} [${f.rule}] ${f.message}`).join('\n');
}

// ------------------------------------------------------------------------------------------------------------------
// Checks
// ------------------------------------------------------------------------------------------------------------------

/** ERROR and MISSING nodes: anything the grammar could not parse (except the `extension` statements it predates). */
export function syntaxFindings(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  const extensions = new Set(file.extensions.map((e) => e.node.id));
  const walk = (node: Node): void => {
    if (extensions.has(node.id)) return;
    if (node.isMissing) {
      findings.push(finding(file, node, 'syntax', `missing '${node.type}'`));
    } else if (node.isError) {
      findings.push(finding(file, node, 'syntax', `cannot parse '${node.text.replace(/\s+/g, ' ').slice(0, 60)}'`));
    }
    for (const child of node.children) if (child.hasError || child.isMissing) walk(child);
  };
  walk(file.root);
  return findings;
}

/**
 * Array items and object properties on one line need a comma. The grammar makes separators optional everywhere,
 * so `[a b]` parses (as two items) while Bicep rejects it — and `[x.y[0]]` written as `[x.y [0]]` would silently
 * become two items. One item per line, or commas, as Bicep requires.
 */
export function separatorFindings(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  for (const node of file.root.descendantsOfType(['array', 'object'])) {
    let previous: Node | null = null;
    let comma = false;
    for (const child of node.children) {
      if (!child.isNamed) {
        if (child.type === ',') comma = true;
        continue;
      }
      if (child.type === 'comment' || child.type === 'diagnostic_comment' || child.type === 'decorators') continue;
      if (previous && !comma && child.startPosition.row === previous.endPosition.row) {
        findings.push(
          finding(
            file,
            child,
            'separator',
            `'${previous.text.slice(0, 30)}' and '${child.text.slice(0, 30)}' are on one line without a comma`,
          ),
        );
      }
      previous = child;
      comma = false;
    }
  }
  return findings;
}

/** Every module source is a local .bicep file that exists (registry modules cannot be verified offline). */
export function modulePathFindings(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  for (const module of file.modules) {
    if (/^(br|ts)[:/]/.test(module.source)) {
      findings.push(
        finding(
          file,
          module.node,
          'module-path',
          `module ${module.name}: registry source '${module.source}' cannot be verified offline; vendor it under infra/bicep`,
        ),
      );
      continue;
    }
    const target = resolve(dirname(file.path), module.source);
    if (!module.source.endsWith('.bicep') || !existsSync(target)) {
      findings.push(
        finding(
          file,
          module.node,
          'module-path',
          `module ${module.name}: '${module.source}' does not exist (resolved to ${relative(ROOT, target)})`,
        ),
      );
    }
  }
  return findings;
}

const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'secret', 'secrets', 'token', 'tokens', 'credential', 'credentials', 'sas']);
/** A name ending in one of these holds metadata about a secret (its name, its URI...), not the secret. */
const METADATA_WORDS = new Set([
  'name',
  'names',
  'uri',
  'uris',
  'url',
  'urls',
  'id',
  'ids',
  'path',
  'paths',
  'enabled',
  'scope',
  'version',
  'type',
  'kind',
  'days',
  'policy',
  'mode',
  'expiry',
  'count',
]);
/** Words that make a following "key" not a secret: partitionKey, publicKey. */
const HARMLESS_KEY_PREFIXES = new Set(['partition', 'public', 'sort', 'row', 'shard']);

/**
 * Whether a name suggests a secret: password, secret, token, credential, SAS, connection string, or key(s) — except
 * keyVault…, partition/public keys, and names that end in metadata words (keyVaultName, redisPasswordSecretName).
 */
export function looksSecret(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_.-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  if (words.length === 0 || METADATA_WORDS.has(words[words.length - 1])) return false;
  if (words.join('').includes('connectionstring')) return true;
  return words.some((word, i) => {
    if (SECRET_WORDS.has(word)) return true;
    if (word !== 'key' && word !== 'keys') return false;
    return words[i + 1] !== 'vault' && !HARMLESS_KEY_PREFIXES.has(words[i - 1] ?? '');
  });
}

/** Parameters whose name suggests a secret must be @secure(). */
export function secureParamFindings(file: BicepFile): Finding[] {
  return file.params
    .filter((p) => looksSecret(p.name) && !p.decorators.some((d) => d.name === 'secure'))
    .map((p) => finding(file, p.node, 'secure-param', `parameter ${p.name} looks like a secret but is not @secure()`));
}

/**
 * Outputs must not expose secrets: no list*() call (listKeys, listConnectionStrings, listCredentials, ...), no
 * secret-looking property (primaryKey, accessKeys, ConnectionString, InstrumentationKey, ...), no whole
 * `.properties` object of a resource, no @secure() parameter — also through variables.
 */
export function outputFindings(file: BicepFile): Finding[] {
  const secureParams = new Set(file.params.filter((p) => p.decorators.some((d) => d.name === 'secure')).map((p) => p.name));
  const findings: Finding[] = [];
  for (const output of file.outputs) {
    for (const problem of exposures(file, output.value, secureParams, new Set())) {
      findings.push(finding(file, output.node, 'output-secret', `output ${output.name} ${problem}`));
    }
  }
  return findings;
}

function exposures(file: BicepFile, expression: Node, secureParams: Set<string>, seenVariables: Set<string>): string[] {
  const problems: string[] = [];
  const walk = (node: Node): void => {
    switch (node.type) {
      case 'call_expression': {
        const fn = node.childForFieldName('function');
        const name = fn?.type === 'member_expression' ? fn.childForFieldName('property')?.text : fn?.text;
        if (name && /^list[A-Z]?/.test(name)) problems.push(`calls ${name}()`);
        break;
      }
      case 'member_expression': {
        const property = node.childForFieldName('property')?.text ?? '';
        if (looksSecret(property) || /^accesskeys$/i.test(property)) problems.push(`reads .${property}`);
        const parent = node.parent;
        const deeper =
          parent &&
          (parent.type === 'member_expression' || parent.type === 'subscript_expression') &&
          parent.childForFieldName('object')?.id === node.id;
        if (property === 'properties' && !deeper)
          problems.push(`exposes a whole '.properties' object (${node.text.slice(0, 40)}); output single fields`);
        break;
      }
      case 'identifier': {
        if (isObjectKey(node) || isCalledFunction(node)) break;
        if (secureParams.has(node.text)) problems.push(`references @secure() parameter ${node.text}`);
        const variable = file.variables.get(node.text);
        if (variable && !seenVariables.has(node.text)) {
          seenVariables.add(node.text);
          for (const problem of exposures(file, variable, secureParams, seenVariables))
            problems.push(`${problem} (through variable ${node.text})`);
        }
        break;
      }
    }
    for (const child of node.namedChildren) walk(child);
  };
  walk(expression);
  return problems;
}

function isObjectKey(node: Node): boolean {
  const parent = node.parent;
  return parent?.type === 'object_property' && parent.namedChildren[0]?.id === node.id && parent.namedChildren.length > 1;
}

function isCalledFunction(node: Node): boolean {
  return node.parent?.type === 'call_expression' && node.parent.childForFieldName('function')?.id === node.id;
}

const API_VERSION = /@\d{4}-\d{2}-\d{2}(-preview)?$/;
/** Microsoft Graph resources are versioned by the Graph endpoint: v1.0 is the stable one (beta changes without notice). */
const GRAPH_API_VERSION = /^Microsoft\.Graph\/[A-Za-z0-9/]+@v1\.0$/;

/**
 * Every resource declaration (also nested and `existing` ones) pins a dated API version; a Microsoft Graph resource
 * pins `@v1.0`, whose types the extension version in bicepconfig.json fixes.
 */
export function apiVersionFindings(file: BicepFile): Finding[] {
  return file.resources
    .filter((r) => !API_VERSION.test(r.type) && !GRAPH_API_VERSION.test(r.type))
    .map((r) =>
      finding(
        file,
        r.node,
        'api-version',
        `resource ${r.name} '${r.type}' has no dated API version (@YYYY-MM-DD or @YYYY-MM-DD-preview; Microsoft.Graph: @v1.0)`,
      ),
    );
}

/** bicepconfig.json's `extensions`: alias → registry reference. Bicep reads it as JSON with comments; this file has none. */
export function bicepConfigExtensions(text: string): Record<string, string> {
  const config = JSON.parse(text) as { extensions?: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(config.extensions ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

const GRAPH_EXTENSION = /^br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:\d+\.\d+\.\d+$/;

/**
 * A file that declares Microsoft.Graph resources declares an extension; every extension it declares is an alias of
 * bicepconfig.json (no inline registry reference), and a Graph alias names the v1.0 types at a released version
 * (no `-preview`, no beta types).
 */
export function extensionFindings(file: BicepFile, configExtensions: Record<string, string>): Finding[] {
  const findings: Finding[] = [];
  for (const extension of file.extensions) {
    const reference = configExtensions[extension.name];
    if (reference === undefined) {
      findings.push(
        finding(file, extension.node, 'extension', `extension ${extension.name} is not an alias in infra/bicep/bicepconfig.json`),
      );
    } else if (/microsoftgraph/i.test(reference) && !GRAPH_EXTENSION.test(reference)) {
      findings.push(
        finding(
          file,
          extension.node,
          'extension',
          `extension ${extension.name} is '${reference}', not the released Microsoft Graph v1.0 types`,
        ),
      );
    }
  }
  const graph = file.resources.filter((r) => r.type.startsWith('Microsoft.Graph/'));
  const graphExtension = file.extensions.some((e) => GRAPH_EXTENSION.test(configExtensions[e.name] ?? ''));
  if (graph.length > 0 && !graphExtension) {
    findings.push(
      finding(
        file,
        graph[0].node,
        'extension',
        `resource ${graph[0].name} is a Microsoft Graph resource, but the file declares no Microsoft Graph extension`,
      ),
    );
  }
  return findings;
}

/** Parameters a module call passes, or null when `params` is not an object literal. */
export function passedParams(module: ModuleDecl): Property[] | null {
  const params = getPath(module.body, 'params');
  if (!params) return [];
  return params.type === 'object' ? objectProperties(params) : null;
}

/** Every module call supplies each required parameter of the module (no default, not nullable) and no unknown one. */
export function moduleParamFindings(file: BicepFile, load: (path: string) => BicepFile): Finding[] {
  const findings: Finding[] = [];
  for (const module of file.modules) {
    const target = resolve(dirname(file.path), module.source);
    if (!existsSync(target)) continue; // reported by modulePathFindings
    const declared = load(target).params;
    const passed = passedParams(module);
    if (passed === null) {
      findings.push(finding(file, module.node, 'module-params', `module ${module.name}: params must be an object literal to be checked`));
      continue;
    }
    const passedNames = new Set(passed.map((p) => p.key));
    for (const param of declared) {
      if (!param.hasDefault && !param.nullable && !passedNames.has(param.name)) {
        findings.push(
          finding(
            file,
            module.node,
            'module-params',
            `module ${module.name}: required parameter ${param.name} of ${module.source} is not passed`,
          ),
        );
      }
    }
    const declaredNames = new Set(declared.map((p) => p.name));
    for (const property of passed) {
      if (!declaredNames.has(property.key)) {
        findings.push(
          finding(file, property.keyNode, 'module-params', `module ${module.name}: ${module.source} has no parameter ${property.key}`),
        );
      }
    }
  }
  return findings;
}

/**
 * A JSON parameter file (ARM deploymentParameters shape) for a template: known parameters only, every required
 * parameter supplied, values of the declared type, within @allowed/@minValue/@maxValue/@minLength/@maxLength.
 */
export function parameterFileFindings(path: string, template: BicepFile, text: string = readFileSync(path, 'utf8')): Finding[] {
  const findings: Finding[] = [];
  const at = (needle: string, rule: string, message: string): Finding => {
    const index = text.indexOf(needle);
    const before = index >= 0 ? text.slice(0, index) : '';
    const line = before.split('\n').length;
    return { file: relative(ROOT, path), line, column: index >= 0 ? index - before.lastIndexOf('\n') : 1, rule, message };
  };
  let document: { $schema?: unknown; contentVersion?: unknown; parameters?: Record<string, { value?: unknown; reference?: unknown }> };
  try {
    document = JSON.parse(text);
  } catch (error) {
    return [at('', 'param-file', `not JSON: ${(error as Error).message}`)];
  }
  if (typeof document.$schema !== 'string' || !document.$schema.includes('/deploymentParameters.json')) {
    findings.push(at('$schema', 'param-file', '$schema must be the ARM deploymentParameters schema'));
  }
  if (typeof document.contentVersion !== 'string') findings.push(at('contentVersion', 'param-file', 'contentVersion is missing'));
  const supplied = document.parameters ?? {};
  const declared = new Map(template.params.map((p) => [p.name, p]));
  for (const [name, entry] of Object.entries(supplied)) {
    const param = declared.get(name);
    if (!param) {
      findings.push(at(`"${name}"`, 'param-file', `parameter ${name} is not declared in ${relative(ROOT, template.path)}`));
      continue;
    }
    if (entry === null || typeof entry !== 'object' || (!('value' in entry) && !('reference' in entry))) {
      findings.push(at(`"${name}"`, 'param-file', `parameter ${name} needs a value (or a Key Vault reference)`));
      continue;
    }
    if (!('value' in entry)) continue;
    for (const problem of valueProblems(param, entry.value)) findings.push(at(`"${name}"`, 'param-file', `parameter ${name}: ${problem}`));
  }
  for (const param of template.params) {
    if (!param.hasDefault && !param.nullable && !(param.name in supplied)) {
      findings.push(at('"parameters"', 'param-file', `required parameter ${param.name} (no default) is not supplied`));
    }
  }
  return findings;
}

function valueProblems(param: ParamDecl, value: unknown): string[] {
  const problems: string[] = [];
  const type = param.type.replace(/\?$/, '');
  const matches: Record<string, (v: unknown) => boolean> = {
    string: (v) => typeof v === 'string',
    int: (v) => Number.isInteger(v),
    bool: (v) => typeof v === 'boolean',
    array: (v) => Array.isArray(v),
    object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  };
  if (matches[type] && !matches[type](value)) problems.push(`expected ${type}, got ${JSON.stringify(value)}`);
  for (const decorator of param.decorators) {
    const arg = decorator.args[0];
    if (!arg) continue;
    let bound: unknown;
    try {
      bound = literal(arg);
    } catch {
      continue;
    }
    if (decorator.name === 'allowed' && Array.isArray(bound) && !Array.isArray(value) && !bound.includes(value)) {
      problems.push(`${JSON.stringify(value)} is not one of @allowed ${JSON.stringify(bound)}`);
    }
    if (decorator.name === 'minValue' && typeof value === 'number' && value < (bound as number))
      problems.push(`${value} < @minValue(${bound})`);
    if (decorator.name === 'maxValue' && typeof value === 'number' && value > (bound as number))
      problems.push(`${value} > @maxValue(${bound})`);
    const length = typeof value === 'string' || Array.isArray(value) ? value.length : undefined;
    if (decorator.name === 'minLength' && length !== undefined && length < (bound as number))
      problems.push(`length ${length} < @minLength(${bound})`);
    if (decorator.name === 'maxLength' && length !== undefined && length > (bound as number))
      problems.push(`length ${length} > @maxLength(${bound})`);
  }
  return problems;
}
