// What the configuration file (conf/xmppd.yml) holds: only what is needed before the
// database opens. Everything else is a system property (properties/).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type DatabaseConfig =
  | { type: 'sqlite'; path: string }
  | { type: 'mysql'; url: string };

export interface ListenerConfig {
  enabled: boolean;
  host: string;
  port: number;
}

/** A client TCP listener (c2s, c2s_tls). */
export interface TcpListenerConfig extends ListenerConfig {
  /** Every connection starts with a PROXY protocol header (v1 or v2) naming the client (default false). */
  proxyProtocol: boolean;
}

export interface ServerConfig {
  /** Absolute path of the file the configuration came from, or null for built-in defaults. */
  file: string | null;
  /** The XMPP domain served, already prepared (lower case). */
  domain: string;
  /** Stable identity of this node in a cluster; defaults to a name derived from host and port. */
  nodeId: string;
  /** Where the SQLite database, generated certificates and plugin work folders live. */
  dataDir: string;
  logLevel: LogLevel;
  /** Client-to-server TCP, STARTTLS offered (default 5222). */
  c2s: TcpListenerConfig & {
    /** Refuse SASL until the stream is encrypted (default true). */
    requireTls: boolean;
  };
  /** Client-to-server direct TLS (default 5223). */
  c2sTls: TcpListenerConfig;
  /** Client HTTP: BOSH, WebSocket, /status, /metrics (default 7070). */
  http: ListenerConfig;
  /** The same over HTTPS and WSS with the node's certificate (default 7443, disabled). */
  https: ListenerConfig;
  /** Admin API and console (default 127.0.0.1:9090). */
  admin: ListenerConfig;
  /** Allow SASL PLAIN on an unencrypted stream (default false; load tools need it). */
  allowPlaintextAuth: boolean;
  /** PEM files; when both are null a self-signed pair is generated under dataDir. */
  tls: { cert: string | null; key: string | null };
  database: DatabaseConfig;
  /** Directory watched for drop-in plugins (default <dataDir>/plugins). */
  pluginsDir: string;
  /** Plugins of the install copied into pluginsDir when that folder is first created. */
  bundledPlugins: string[];
  /** This node's own cluster settings (null: not set, the clustering plugin's defaults). */
  cluster: NodeClusterConfig;
}

/** The per-node part of clustering, from the `cluster` section of the file. */
export interface NodeClusterConfig {
  /** Address this node's cluster link listens on and publishes to the other nodes. */
  linkHost: string | null;
  /** Its port; 0 takes any free one. */
  linkPort: number | null;
  /** Absolute path of the clustering plugin's client configuration file for this node. */
  configFile: string | null;
}
