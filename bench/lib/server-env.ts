// The environment a benchmarked xmppd process runs with: every listener on its own free
// port of 127.0.0.1, plaintext PLAIN allowed (the load generator speaks plain TCP), the
// database and folders given by the target.
import { freePort } from './net-utils.ts';

export interface ServerEnvOptions {
  dataDir: string;
  databaseUrl: string;
  pluginsDir: string;
  logLevel: string;
  nodeId?: string;
}

export interface ServerEnv {
  env: NodeJS.ProcessEnv;
  ports: { c2s: number; c2sTls: number; http: number; admin: number };
}

export async function serverEnv(o: ServerEnvOptions): Promise<ServerEnv> {
  const [c2s, c2sTls, http, admin] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(o.nodeId ? { XMPPD_NODE_ID: o.nodeId } : {}),
    XMPPD_DOMAIN: 'localhost',
    XMPPD_DATA_DIR: o.dataDir,
    XMPPD_DATABASE_URL: o.databaseUrl,
    XMPPD_C2S_HOST: '127.0.0.1',
    XMPPD_C2S_PORT: String(c2s),
    XMPPD_C2S_TLS_HOST: '127.0.0.1',
    XMPPD_C2S_TLS_PORT: String(c2sTls),
    XMPPD_HTTP_HOST: '127.0.0.1',
    XMPPD_HTTP_PORT: String(http),
    XMPPD_ADMIN_HOST: '127.0.0.1',
    XMPPD_ADMIN_PORT: String(admin),
    XMPPD_ALLOW_PLAINTEXT_AUTH: 'true',
    XMPPD_REQUIRE_TLS: 'false',
    XMPPD_PLUGINS_DIR: o.pluginsDir,
    XMPPD_BUNDLED_PLUGINS: 'none',
    XMPPD_LOG_LEVEL: o.logLevel,
  };
  return { env, ports: { c2s, c2sTls, http, admin } };
}
