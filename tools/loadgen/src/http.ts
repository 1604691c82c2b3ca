import { Agent, request } from 'undici';

export const SYNTHETIC_HEADERS = { 'x-synthetic-request': 'true', baggage: 'synthetic_request=true' } as const;

/** A JSON body as an object (a non-object answer becomes `{}`; its text stays in `text`). */
export type Body = Record<string, unknown>;

export interface Response {
  status: number;
  body: Body;
  text: string;
  problemType?: string;
  problemTitle?: string;
}

/** Thrown for a request that got no HTTP answer: connection refused or reset, timeout. */
export class TransportError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Keep-alive connections to one origin; every request carries the synthetic mark. */
export class HttpClient {
  private readonly agent: Agent;

  constructor(
    private readonly base: string,
    private readonly timeoutMs: number,
    connections = 256,
  ) {
    this.agent = new Agent({ connections, keepAliveTimeout: 10_000, connect: { timeout: Math.min(timeoutMs, 5000) } });
  }

  async send(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...SYNTHETIC_HEADERS, accept: 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(options.signal ? [options.signal] : [])];
    const signal = AbortSignal.any(signals);
    try {
      const response = await request(`${this.base}${path}`, {
        method: method as 'GET',
        headers,
        body: payload,
        dispatcher: this.agent,
        signal,
      });
      const text = await response.body.text();
      let body: Body = {};
      const contentType = String(response.headers['content-type'] ?? '');
      if (text && contentType.includes('json')) {
        try {
          const parsed: unknown = JSON.parse(text);
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Body;
        } catch {
          // not JSON after all: the text is kept
        }
      }
      const problem = contentType.includes('problem+json');
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
      return {
        status: response.statusCode,
        body,
        text,
        problemType: problem ? str(body.type) : undefined,
        problemTitle: problem ? str(body.title) : undefined,
      };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const code = (error as { code?: string }).code;
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
        throw new TransportError('timeout', `no answer within ${this.timeoutMs} ms`);
      }
      throw new TransportError(`network:${code ?? name}`, (error as Error).message);
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
