import { LocalStack, api } from './stack';

/**
 * The gateway's per-address limit behind the real NGINX of the local stack: a client cannot pick its own address
 * with X-Forwarded-For, and an encoded path does not escape the limit.
 */
let stack: LocalStack;

beforeAll(async () => {
  stack = await LocalStack.start({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
}, 180_000);

afterAll(async () => {
  if (!stack) return;
  const exit = await stack.stop();
  expect(exit.code).toBe(0);
});

it('a spoofed X-Forwarded-For does not give an unauthenticated client a fresh limit', async () => {
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await api(stack.ingress, 'GET', '/api/deadletters')).status);
  expect(statuses).toEqual([401, 401, 401]);
  for (const spoofed of ['203.0.113.7', '198.51.100.1, 203.0.113.8', '127.0.0.1']) {
    const response = await api(stack.ingress, 'GET', '/api/deadletters', { headers: { 'x-forwarded-for': spoofed } });
    expect(response.status, spoofed).toBe(429);
    expect(response.body.detail, 'the gateway’s limit, not the ingress’ own').toMatch(/^Rate limit exceeded/);
  }
});

it('an encoded path through NGINX is counted like the route it reaches', async () => {
  const token = stack.token('proxy-chain-owner');
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await api(stack.ingress, 'GET', '/%61pi/deadletters', { token })).status);
  expect(statuses).toEqual([403, 403, 403, 429]);
});
