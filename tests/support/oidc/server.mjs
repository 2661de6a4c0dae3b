// A real, external OIDC issuer for tests: panva/oidc-provider mounted so that its routes have
// Keycloak's shape (SPEC 7.2), issuing RS256 JWT access tokens for one client-credentials client.
//
//   node server.mjs [port]          port 0 (the default) lets the OS pick a free one
//
// Environment: OIDC_PORT, OIDC_REALM (prevention), OIDC_CLIENT_ID (training-platform-test),
// OIDC_CLIENT_SECRET (required), OIDC_TENANT (110000), OIDC_ROLES (training_platform, comma
// separated). Binds 127.0.0.1 only. When it listens it prints one line on stdout:
//
//   READY <issuer>
//
// and nothing else on stdout; the provider's development warnings go to stderr.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import process from 'node:process';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
const AUDIENCE = 'prevention-api';
// An RFC 8707 resource indicator must be an absolute URI; the token's `aud` is set from
// `audience` below, so the platform sees `prevention-api` exactly as Keycloak's audience mapper
// would put it.
const RESOURCE = 'urn:prevention:api';
const SCOPES = ['xapi:write'];

const port = Number(process.argv[2] ?? process.env.OIDC_PORT ?? 0);
const realm = process.env.OIDC_REALM || 'prevention';
const clientId = process.env.OIDC_CLIENT_ID || 'training-platform-test';
const clientSecret = process.env.OIDC_CLIENT_SECRET;
const tenant = process.env.OIDC_TENANT || '110000';
const roles = (process.env.OIDC_ROLES || 'training_platform').split(',').filter(Boolean);

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`invalid port: ${process.argv[2] ?? process.env.OIDC_PORT}\n`);
  process.exit(2);
}
if (!clientSecret) {
  process.stderr.write('OIDC_CLIENT_SECRET must be set\n');
  process.exit(2);
}

function signingJwks() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { keys: [{ ...jwk, kid: randomUUID(), use: 'sig', alg: 'RS256' }] };
}

const prefix = `/realms/${realm}`;
const server = createServer();

server.listen(port, HOST, () => {
  const issuer = `http://${HOST}:${server.address().port}${prefix}`;
  const provider = new Provider(issuer, {
    jwks: signingJwks(),
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SCOPES.join(' '),
    }],
    scopes: SCOPES,
    // Keycloak's endpoint paths, relative to the mount point `/realms/<realm>`.
    routes: {
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      jwks: '/protocol/openid-connect/certs',
      userinfo: '/protocol/openid-connect/userinfo',
      end_session: '/protocol/openid-connect/logout',
      introspection: '/protocol/openid-connect/token/introspect',
      revocation: '/protocol/openid-connect/revoke',
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => RESOURCE,
        getResourceServerInfo: async (_ctx, resourceIndicator) => {
          if (resourceIndicator !== RESOURCE) {
            throw new Provider.errors.InvalidTarget();
          }
          return {
            audience: AUDIENCE,
            scope: SCOPES.join(' '),
            accessTokenTTL: 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // The platform's claims (SPEC 7.2). oidc-provider writes `client_id`; Keycloak writes `azp`.
    extraTokenClaims: async (_ctx, token) => ({
      azp: token.clientId,
      tenant,
      realm_access: { roles },
      typ: 'Bearer',
    }),
    formats: {
      customizers: {
        // Keycloak's `aud` is a list when more than one audience applies; keep that shape so the
        // validator's "contains" check is what is exercised.
        jwt: async (_ctx, _token, structured) => {
          structured.payload.aud = [structured.payload.aud, 'account'];
        },
      },
    },
  });

  const handle = provider.callback();
  server.on('request', (req, res) => {
    const path = req.url ?? '/';
    if (path !== prefix && !path.startsWith(`${prefix}/`)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'Realm does not exist' }));
      return;
    }
    // Mount under /realms/<realm>: the provider routes on the rest of the path and builds its
    // URLs (discovery document) from `baseUrl`.
    req.baseUrl = prefix;
    req.url = path.slice(prefix.length) || '/';
    handle(req, res);
  });

  process.stdout.write(`READY ${issuer}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
