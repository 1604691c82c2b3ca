import type { FastifyInstance } from 'fastify';

/** Deeper than any body of this API: the deepest DTO nests two objects. */
export const MAX_JSON_DEPTH = 32;

/** A JSON body nested deeper than MAX_JSON_DEPTH: refused before parsing (400 json-too-deep). */
export class JsonTooDeepError extends Error {
  readonly statusCode = 400;

  constructor() {
    super(`The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * Fastify's own JSON parser (prototype-poisoning protection, its empty and invalid body errors), behind a depth
 * check on the raw text: a deeply nested body would otherwise recurse through validation and answer 500.
 */
export function limitJsonDepth(fastify: FastifyInstance): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
      done(new JsonTooDeepError(), undefined);
      return;
    }
    parse(request, text, done);
  });
}

/** Counts open objects and arrays outside strings; linear in the text, no recursion. */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > max) return true;
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return false;
}
