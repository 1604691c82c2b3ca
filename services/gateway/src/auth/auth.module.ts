import { APP_CONFIG } from '@dronedelivery/platform';
import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type GatewayConfig, allowedClientApps } from '../config';
import { AuthGuard } from './auth.guard';
import { AUTHENTICATOR, Authenticator } from './authenticator';
import { loadOrCreateLocalKeys } from './local-keys';
import { entraTokenVerifier, localTokenVerifier } from './token-verifier';

@Global()
@Module({
  providers: [
    {
      provide: AUTHENTICATOR,
      inject: [APP_CONFIG],
      useFactory: async (config: GatewayConfig) => {
        const common = {
          clockToleranceSeconds: config.AUTH_CLOCK_SKEW_SECONDS,
          opsRole: config.AUTH_OPS_ROLE,
          loadTest: { role: config.AUTH_LOADTEST_ROLE, ownerPrefix: config.LOADTEST_OWNER_PREFIX },
        };
        if (config.AUTH_MODE === 'entra') {
          // The schema requires these in entra mode.
          return new Authenticator(
            entraTokenVerifier({
              ...common,
              issuer: config.AUTH_ISSUER!,
              audience: config.AUTH_AUDIENCE!,
              jwksUri: config.AUTH_JWKS_URI!,
              clientApps: allowedClientApps(config.AUTH_ALLOWED_CLIENT_IDS),
            }),
          );
        }
        const keys = await loadOrCreateLocalKeys(config.AUTH_LOCAL_KEY_DIR);
        return new Authenticator(localTokenVerifier(keys.publicKey, common));
      },
    },
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AUTHENTICATOR],
})
export class AuthModule {}
