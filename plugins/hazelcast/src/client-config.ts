// The Hazelcast client configuration, read from the XML file operators know from Hazelcast's
// own clients (conf/hazelcast/hazelcast-client.xml by default). The Node.js client takes a
// plain object, so the subset xmppd uses is read here: the cluster name, the member
// addresses, the connection timeouts and the reconnection backoff. Anything else in the file
// is left alone.
import { readFileSync } from 'node:fs';
import { ReconnectMode, type ClientConfig } from 'hazelcast-client';
import { parseXmlDocument, type Element } from 'xmppd';

export interface ClientSettings {
  clusterName: string;
  members: string[];
  /** How long one attempt to reach the cluster may take before it counts as failed, in ms. */
  connectTimeoutMs: number;
  /** Per connection attempt to one member, in ms. */
  connectionTimeoutMs: number;
  /** The pauses between attempts to reach the cluster (connection-retry in the file). */
  backoff: { initialMs: number; maxMs: number; multiplier: number; jitter: number };
}

export class ClientConfigError extends Error {}

const DEFAULTS: ClientSettings = {
  clusterName: 'xmppd',
  members: ['127.0.0.1:5701'],
  connectTimeoutMs: 20_000,
  connectionTimeoutMs: 5_000,
  // Shorter than Hazelcast's own (1 s, 30 s, 1.05): a node is back in the cluster soon after its members.
  backoff: { initialMs: 500, maxMs: 5_000, multiplier: 2, jitter: 0 },
};

function child(el: Element | undefined, name: string): Element | undefined {
  return el?.getChildElements().find((c) => c.name === name);
}

function positiveInt(text: string | undefined, what: string, file: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n <= 0) throw new ClientConfigError(`${file}: ${what} must be a positive whole number of milliseconds, not ${JSON.stringify(text.trim())}`);
  return n;
}

/** A number in [min, max] (Hazelcast's own bounds for the setting). */
function number(text: string | undefined, what: string, file: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    const range = max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ClientConfigError(`${file}: ${what} must be a number ${range}, not ${JSON.stringify(text.trim())}`);
  }
  return n;
}

/** Reads the settings; a missing or malformed file is an error that names it. */
export function readClientSettings(file: string): ClientSettings {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ClientConfigError(`cannot read the Hazelcast client configuration ${file}: ${(err as Error).message}`);
  }
  let root: Element;
  try {
    root = parseXmlDocument(text);
  } catch (err) {
    throw new ClientConfigError(`${file} is not well-formed XML: ${(err as Error).message}`);
  }
  if (root.name !== 'hazelcast-client') throw new ClientConfigError(`${file}: the root element must be <hazelcast-client>, not <${root.name}>`);
  const network = child(root, 'network');
  const members = (child(network, 'cluster-members')?.getChildElements() ?? [])
    .filter((c) => c.name === 'address')
    .map((c) => c.getText().trim())
    .filter(Boolean);
  for (const m of members) {
    if (!/^[^\s:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(m)) throw new ClientConfigError(`${file}: cluster member address ${JSON.stringify(m)} is not host or host:port`);
  }
  const clusterName = child(root, 'cluster-name')?.getText().trim();
  const retry = child(child(root, 'connection-strategy'), 'connection-retry');
  const retryText = (name: string): string | undefined => child(retry, name)?.getText();
  const backoff = {
    initialMs: positiveInt(retryText('initial-backoff-millis'), 'initial-backoff-millis', file) ?? DEFAULTS.backoff.initialMs,
    maxMs: positiveInt(retryText('max-backoff-millis'), 'max-backoff-millis', file) ?? DEFAULTS.backoff.maxMs,
    multiplier: number(retryText('multiplier'), 'multiplier', file, 1, Infinity) ?? DEFAULTS.backoff.multiplier,
    jitter: number(retryText('jitter'), 'jitter', file, 0, 1) ?? DEFAULTS.backoff.jitter,
  };
  if (backoff.maxMs < backoff.initialMs) throw new ClientConfigError(`${file}: max-backoff-millis (${backoff.maxMs}) is below initial-backoff-millis (${backoff.initialMs})`);
  return {
    clusterName: clusterName || DEFAULTS.clusterName,
    members: members.length ? members : DEFAULTS.members,
    connectTimeoutMs: positiveInt(retryText('cluster-connect-timeout-millis'), 'cluster-connect-timeout-millis', file) ?? DEFAULTS.connectTimeoutMs,
    connectionTimeoutMs: positiveInt(child(network, 'connection-timeout')?.getText(), 'network/connection-timeout', file) ?? DEFAULTS.connectionTimeoutMs,
    backoff,
  };
}

export function toClientConfig(settings: ClientSettings): ClientConfig {
  return {
    clusterName: settings.clusterName,
    network: { clusterMembers: settings.members, connectionTimeout: settings.connectionTimeoutMs },
    connectionStrategy: {
      // Once connected, a lost cluster is reconnected to in the background; the node keeps
      // serving its own sessions meanwhile (and reports itself degraded).
      reconnectMode: ReconnectMode.ON,
      connectionRetry: {
        clusterConnectTimeoutMillis: settings.connectTimeoutMs,
        initialBackoffMillis: settings.backoff.initialMs,
        maxBackoffMillis: settings.backoff.maxMs,
        multiplier: settings.backoff.multiplier,
        jitter: settings.backoff.jitter,
      },
    },
  };
}
