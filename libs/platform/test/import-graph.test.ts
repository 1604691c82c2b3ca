import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** The platform's own import graph: no cycles, and the Nest-free entry points stay free of Nest and store clients. */
const src = join(__dirname, '../src');

interface Edge {
  target: string;
  /** Loaded when the importing module loads (not type-only, not a dynamic import()). */
  eager: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  const found = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`${relative(src, from)}: cannot resolve '${specifier}'`);
  return found;
}

function edgesOf(file: string): Edge[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      edges.push({ target: resolveSpecifier(file, node.moduleSpecifier.text), eager: !isTypeOnly(node) });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) edges.push({ target: resolveSpecifier(file, argument.text), eager: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return true;
    const clause = node.exportClause;
    return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
  }
  const clause = node.importClause;
  if (!clause) return false; // a side-effect import
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((e) => e.isTypeOnly)
  );
}

const graph = new Map(sourceFiles(src).map((file) => [file, edgesOf(file)]));

function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'visiting');
    stack.push(file);
    for (const { target } of graph.get(file) ?? []) {
      if (!graph.has(target)) continue; // a package, not a file of the lib
      if (state.get(target) === 'visiting') found.push([...stack.slice(stack.indexOf(target)), target].map((f) => relative(src, f)));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

/** The packages a module loads with it, through every eager import within the lib. */
function eagerPackages(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const { target, eager } of graph.get(file) ?? []) {
      if (!eager) continue;
      if (graph.has(target)) walk(target);
      else packages.add(target);
    }
  };
  walk(join(src, entry));
  return packages;
}

it('has no import cycle, type-only and dynamic imports included', () => {
  expect(graph.size).toBeGreaterThan(10);
  expect(cycles()).toEqual([]);
});

it.each(['config/config.ts', 'run.ts'])('keeps the entry point %s free of Nest and store clients (loaded before telemetry)', (entry) => {
  const loaded = [...eagerPackages(entry)];
  expect(loaded).toContain('zod');
  expect(loaded.filter((name) => /^@nestjs\/|^ioredis$|^@azure\/identity$|^@azure\/keyvault-secrets$/.test(name))).toEqual([]);
});
