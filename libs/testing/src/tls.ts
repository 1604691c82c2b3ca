import { writeFileSync } from 'node:fs';
import { generate } from 'selfsigned';

export interface TestCertificate {
  key: string;
  cert: string;
  /** Path of the certificate as a PEM file, for NODE_EXTRA_CA_CERTS of child processes. */
  certPath: string;
}

/** A self-signed certificate for 127.0.0.1/localhost, generated per run and never committed. */
export async function createTestCertificate(certPath: string): Promise<TestCertificate> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  writeFileSync(certPath, pems.cert);
  return { key: pems.private, cert: pems.cert, certPath };
}
