// @vercel/cosmosdb-server over HTTPS with the certificate mounted at TLS_CERT_PATH / TLS_KEY_PATH.
//
// Its account document advertises https://127.0.0.1:<port>/ as the account's endpoint, as the vNext emulator does
// when GATEWAY_PUBLIC_ENDPOINT is not set. (Left alone, @vercel/cosmosdb-server would name its account
// "localhost", for which the Cosmos SDK ignores advertised endpoints; the vNext emulator's account is not named
// that.) From another container 127.0.0.1 is that container itself, so this stand-in deliberately ignores
// GATEWAY_PUBLIC_ENDPOINT: the compose run then proves that the package service does not follow the advertisement.
import { createHttpsServer } from '@vercel/cosmosdb-server';
import { readFileSync } from 'node:fs';

const port = Number(process.env.PORT ?? 8081);
const host = process.env.HOST ?? '0.0.0.0';
const advertised = `https://127.0.0.1:${port}/`;
const server = createHttpsServer({
  key: readFileSync(process.env.TLS_KEY_PATH ?? '/certs/cosmos.key'),
  cert: readFileSync(process.env.TLS_CERT_PATH ?? '/certs/cosmos.pem'),
  keepAlive: true,
});

const serve = server.listeners('request');
server.removeAllListeners('request');
server.on('request', (request, response) => {
  if (request.method === 'GET' && (request.url === '/' || request.url === '')) {
    const end = response.end.bind(response);
    response.end = (body, ...rest) => {
      try {
        const account = JSON.parse(String(body));
        account.id = account._rid = '127.0.0.1';
        for (const location of [...(account.writableLocations ?? []), ...(account.readableLocations ?? [])])
          location.databaseAccountEndpoint = advertised;
        return end(JSON.stringify(account), ...rest);
      } catch {
        return end(body, ...rest);
      }
    };
  }
  for (const handler of serve) handler.call(server, request, response);
});

server.listen(port, host, () => console.log(JSON.stringify({ msg: 'cosmos emulator listening', host, port, advertised })));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
