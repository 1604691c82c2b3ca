import { type JWK, SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SigningKeysUnavailableError, remoteSigningKeys } from './remote-signing-keys';

/**
 * Which failures of a remote key set mean "the keys could not be had" (503) and which are the token's (401), against
 * a real HTTP server playing the JWKS endpoint (jose fetches over http as over https).
 */
type Answer = (response: ServerResponse) => void;
let server: Server;
let answer: Answer;
let jwk: JWK;
let token: string;
const pending: ServerResponse[] = [];

const keySet: Answer = (response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ keys: [jwk] }));
};

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'key-1' }).setExpirationTime('1h').sign(privateKey);
  server = createServer((_request, response) => answer(response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const response of pending) response.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const url = () => new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`);
const verify = (keys: ReturnType<typeof remoteSigningKeys>, jws = token) => jwtVerify(jws, keys, { algorithms: ['RS256'] });

async function unavailableCause(keys: ReturnType<typeof remoteSigningKeys>): Promise<unknown> {
  const error = await verify(keys).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SigningKeysUnavailableError);
  expect((error as Error).message).toBe('The signing keys could not be loaded.');
  return (error as Error).cause;
}

it('verifies with a key of the fetched set', async () => {
  answer = keySet;
  await expect(verify(remoteSigningKeys(url()))).resolves.toMatchObject({ protectedHeader: { kid: 'key-1' } });
});

it.each<[string, Answer]>([
  [
    'answers an error status',
    (response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":"temporarily_unavailable"}');
    },
  ],
  [
    'answers a redirect (not followed)',
    (response) => {
      response.writeHead(302, { location: '/elsewhere' });
      response.end();
    },
  ],
  [
    'answers something that is no JSON',
    (response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>maintenance</html>');
    },
  ],
  [
    'answers JSON that is no key set',
    (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"keys":"none"}');
    },
  ],
])('fails with SigningKeysUnavailableError when the endpoint %s, and fetches again on the next lookup', async (_name, failure) => {
  answer = failure;
  const keys = remoteSigningKeys(url());
  await unavailableCause(keys);
  answer = keySet;
  await expect(verify(keys)).resolves.toBeDefined();
});

it('fails with SigningKeysUnavailableError when nothing listens (a refused connection)', async () => {
  const refusing = new URL('http://127.0.0.1:1/keys');
  await unavailableCause(remoteSigningKeys(refusing));
});

it('fails with SigningKeysUnavailableError when the endpoint does not answer in time (JWKSTimeout)', async () => {
  answer = (response) => pending.push(response);
  const cause = await unavailableCause(remoteSigningKeys(url(), { timeoutMs: 50 }));
  expect(cause).toMatchObject({ code: 'ERR_JWKS_TIMEOUT' });
});

it("leaves a key id the fetched set does not hold to the token's account (jose's JWKSNoMatchingKey)", async () => {
  answer = keySet;
  const { privateKey } = await generateKeyPair('RS256');
  const strange = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'key-2' }).setExpirationTime('1h').sign(privateKey);
  const keys = remoteSigningKeys(url());
  await verify(keys); // the set is fetched
  await expect(verify(keys, strange)).rejects.toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY' });
  await expect(verify(keys, strange)).rejects.not.toBeInstanceOf(SigningKeysUnavailableError);
});

it("leaves a signature the fetched key does not verify to the token's account", async () => {
  answer = keySet;
  const { privateKey } = await generateKeyPair('RS256');
  const forged = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'key-1' }).setExpirationTime('1h').sign(privateKey);
  await expect(verify(remoteSigningKeys(url()), forged)).rejects.toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });
});
