import { z } from 'zod';
import { entraAudiences, entraIssuers, entraJwksUri, serviceAuthBackendSettings } from './service-auth-settings';

describe('Entra service-token settings', () => {
  it('accepts v1.0 (sts.windows.net) issuers on the public cloud only', () => {
    expect(entraIssuers('t1')).toEqual(['https://login.microsoftonline.com/t1/v2.0', 'https://sts.windows.net/t1/']);
    expect(entraIssuers('t1', 'https://login.microsoftonline.us/')).toEqual(['https://login.microsoftonline.us/t1/v2.0']);
    expect(entraJwksUri('t1', 'https://login.microsoftonline.us/')).toBe('https://login.microsoftonline.us/t1/discovery/v2.0/keys');
  });

  it('accepts the bare application id beside an api://<application id> audience (v2.0 tokens carry it)', () => {
    const appId = '44444444-0000-0000-0000-00000000de11';
    expect(entraAudiences(`api://${appId}`)).toEqual([`api://${appId}`, appId]);
    expect(entraAudiences('api://dronedelivery-delivery')).toEqual(['api://dronedelivery-delivery']);
  });

  it('refuses an authority host that is not https://', () => {
    const schema = z.object(serviceAuthBackendSettings());
    expect(schema.parse({}).SERVICE_AUTH_AUTHORITY_HOST).toBe('https://login.microsoftonline.com');
    expect(schema.safeParse({ SERVICE_AUTH_AUTHORITY_HOST: 'http://login.microsoftonline.com' }).success).toBe(false);
  });
});
