// The kernel's own system properties, defined in one place so that the server, the CLI and
// the admin console agree on names, defaults and bounds. Plugins define theirs through the
// plugin context instead.
import type { PropertyRegistry } from './property-registry.ts';
import type { Property } from './types.ts';

/** Default of plugins.archive.max-bytes: the limit the CLI applies when it cannot read the property. */
export const DEFAULT_MAX_ARCHIVE_BYTES = 100 * 1024 * 1024;

export interface CoreProperties {
  scramIterations: Property<number>;
  stanzaMaxBytesPreauth: Property<number>;
  stanzaMaxBytes: Property<number>;
  c2sMaxConnectionsPerIp: Property<number>;
  c2sNegotiationTimeout: Property<number>;
  c2sQueueMaxElements: Property<number>;
  sessionMaxPerUser: Property<number>;
  authFailureDelay: Property<number>;
  authMaxFailures: Property<number>;
  plainCacheSize: Property<number>;
  pluginsScanInterval: Property<number>;
  pluginsMaxArchiveBytes: Property<number>;
  adminJids: Property<string>;
  adminSessionIdleTimeout: Property<number>;
  adminLoginMaxFailures: Property<number>;
  adminLoginFailureWindow: Property<number>;
  authThrottleAccountMaxFailures: Property<number>;
  authThrottleAddressMaxFailures: Property<number>;
  authThrottleWindow: Property<number>;
  tlsHandshakeTimeout: Property<number>;
  c2sMaxConnections: Property<number>;
  c2sSendQueueMaxBytes: Property<number>;
  adminAllowedHosts: Property<string>;
  c2sShaperRate: Property<number>;
  c2sShaperBurst: Property<number>;
}

export function defineCoreProperties(registry: PropertyRegistry): CoreProperties {
  return {
    scramIterations: registry.define<number>({
      name: 'xmpp.auth.scram.iterations',
      type: 'integer',
      default: 4096,
      // RFC 7677 asks for at least 4096; far above 100000 a login costs more CPU than it buys.
      min: 4096,
      max: 100000,
      description: 'PBKDF2 iterations for SCRAM keys derived from new or changed passwords; existing keys keep theirs',
      live: true,
    }),
    stanzaMaxBytesPreauth: registry.define<number>({
      name: 'xmpp.stanza.max-bytes.preauth',
      type: 'integer',
      default: 10240,
      min: 1024,
      max: 1048576,
      description: 'Largest stanza accepted before authentication, in bytes (keeps unauthenticated peers cheap)',
      live: true,
    }),
    stanzaMaxBytes: registry.define<number>({
      name: 'xmpp.stanza.max-bytes',
      type: 'integer',
      default: 262144,
      min: 10240,
      max: 16777216,
      description: 'Largest stanza accepted from an authenticated client, in bytes; a larger one closes the stream',
      live: true,
    }),
    c2sMaxConnectionsPerIp: registry.define<number>({
      name: 'xmpp.c2s.max-connections-per-ip',
      type: 'integer',
      default: 100,
      min: 0,
      max: 1000000,
      description: 'Client connections accepted at once from one IP address (0: no limit, e.g. for load tests)',
      live: true,
    }),
    c2sNegotiationTimeout: registry.define<number>({
      name: 'xmpp.c2s.negotiation-timeout',
      type: 'duration',
      default: 30,
      min: 1,
      max: 3600,
      description: 'Seconds a new client stream has to authenticate and bind a resource before it is closed',
      live: true,
    }),
    c2sQueueMaxElements: registry.define<number>({
      name: 'xmpp.c2s.queue.max-elements',
      type: 'integer',
      default: 64,
      min: 8,
      max: 100000,
      // Each element is at most xmpp.stanza.max-bytes.preauth while the stream is unauthenticated,
      // so this also bounds the bytes one unauthenticated stream can hold.
      description: 'Elements a client stream may send ahead while the server finishes an earlier step (SASL, STARTTLS); one more closes the stream with <policy-violation/>',
      live: true,
    }),
    sessionMaxPerUser: registry.define<number>({
      name: 'xmpp.session.max-per-user',
      type: 'integer',
      default: 100,
      min: 0,
      max: 100000,
      description: 'Sessions (bound resources) one account may have at once on this node, over every transport; a further bind gets <resource-constraint/> (0: no limit)',
      live: true,
    }),
    authFailureDelay: registry.define<number>({
      name: 'xmpp.auth.failure-delay',
      type: 'duration',
      default: 1,
      min: 0,
      max: 60,
      description: 'Seconds to wait before answering a failed authentication, to slow password guessing (0: no delay)',
      live: true,
    }),
    authMaxFailures: registry.define<number>({
      name: 'xmpp.auth.max-failures',
      type: 'integer',
      default: 5,
      // RFC 6120 6.4.5: a configurable number of retries, at least 2 and no more than 5.
      min: 2,
      max: 5,
      description: 'Failed authentication attempts allowed on one stream; the last one closes it with <policy-violation/>',
      live: true,
    }),
    plainCacheSize: registry.define<number>({
      name: 'xmpp.auth.plain.cache-size',
      type: 'integer',
      default: 10000,
      min: 0,
      max: 10000000,
      description: 'Accounts whose last verified PLAIN password is remembered (as a keyed hash) so a returning client skips PBKDF2; 0 disables',
      live: true,
    }),
    pluginsScanInterval: registry.define<number>({
      name: 'plugins.scan-interval',
      type: 'duration',
      default: 10,
      min: 1,
      max: 3600,
      description: 'Seconds between two scans of the plugins folder (file events are acted on at once; the scan catches what they miss)',
      live: true,
    }),
    pluginsMaxArchiveBytes: registry.define<number>({
      name: 'plugins.archive.max-bytes',
      type: 'integer',
      default: DEFAULT_MAX_ARCHIVE_BYTES,
      min: 1048576,
      max: 1073741824,
      description: 'Largest size a plugin archive may have, and may unpack to, in bytes; a larger one is refused',
      live: true,
    }),
    adminJids: registry.define<string>({
      name: 'admin.jids',
      type: 'jid-list',
      default: '',
      description: 'Accounts allowed to use the admin API and console, as bare JIDs (or user names of this domain) separated by commas; empty: nobody',
      live: true,
    }),
    adminSessionIdleTimeout: registry.define<number>({
      name: 'admin.session.idle-timeout',
      type: 'duration',
      default: 1800,
      min: 60,
      max: 86400,
      description: 'Seconds an admin console login stays valid without being used',
      live: true,
    }),
    adminLoginMaxFailures: registry.define<number>({
      name: 'admin.login.max-failures',
      type: 'integer',
      default: 10,
      min: 0,
      max: 10000,
      description: 'Failed admin logins allowed per client address, and per account, within admin.login.failure-window; further attempts get 429 without a password check (0: no limit)',
      live: true,
    }),
    adminLoginFailureWindow: registry.define<number>({
      name: 'admin.login.failure-window',
      type: 'duration',
      default: 300,
      min: 1,
      max: 86400,
      description: 'Seconds a failed admin login counts toward admin.login.max-failures',
      live: true,
    }),
    // The defaults follow Openfire's console limits (10 per user name per 15 minutes) and
    // ejabberd's mod_fail2ban (20 failures per address); counted on every node together.
    authThrottleAccountMaxFailures: registry.define<number>({
      name: 'xmpp.auth.throttle.account.max-failures',
      type: 'integer',
      default: 10,
      min: 0,
      max: 100000,
      description: 'Failed logins allowed per account, from any address and on any node, within xmpp.auth.throttle.window; then SASL answers <temporary-auth-failure/> without checking the password, for existing and unknown accounts alike (0: no limit)',
      live: true,
    }),
    authThrottleAddressMaxFailures: registry.define<number>({
      name: 'xmpp.auth.throttle.address.max-failures',
      type: 'integer',
      default: 20,
      min: 0,
      max: 100000,
      description: 'Failed logins allowed per client address (IPv6: per /64 prefix), for any account and on any node, within xmpp.auth.throttle.window; then SASL answers <temporary-auth-failure/> without checking the password (0: no limit)',
      live: true,
    }),
    authThrottleWindow: registry.define<number>({
      name: 'xmpp.auth.throttle.window',
      type: 'duration',
      default: 900,
      min: 1,
      max: 86400,
      description: 'Seconds a failed login counts toward xmpp.auth.throttle.account.max-failures and xmpp.auth.throttle.address.max-failures',
      live: true,
    }),
    tlsHandshakeTimeout: registry.define<number>({
      name: 'xmpp.tls.handshake-timeout',
      type: 'duration',
      default: 10,
      min: 1,
      max: 300,
      // A deadline from accept (or from <proceed/>), not an idle timer: a peer that trickles
      // its handshake one byte at a time is cut as surely as one that sends nothing.
      description: 'Seconds a client has to finish its TLS handshake (direct TLS, HTTPS, STARTTLS) before the connection is dropped',
      live: true,
    }),
    c2sMaxConnections: registry.define<number>({
      name: 'xmpp.c2s.max-connections',
      type: 'integer',
      default: 0,
      min: 0,
      max: 1000000,
      description: 'Client sockets (TCP, TLS, HTTP, HTTPS) open at once on this node; more are closed at accept. 0: three quarters of the process\'s open-file limit. Never closer than 128 to that limit, which the admin listener, the database and the cluster need',
      live: true,
    }),
    c2sSendQueueMaxBytes: registry.define<number>({
      name: 'xmpp.c2s.send-queue.max-bytes',
      type: 'integer',
      // Four stanzas of the default largest size (xmpp.stanza.max-bytes, 256 KiB), so a burst
      // of big stanzas to a client that reads does not cut it, and on top of the kernel's
      // socket buffers; small enough that many stuck clients cannot exhaust memory.
      default: 1048576,
      min: 65536,
      max: 268435456,
      description: 'Bytes that may wait in this node for a client that does not read (TCP or TLS socket, WebSocket, BOSH session) before its stream is closed with <resource-constraint/>',
      live: true,
    }),
    adminAllowedHosts: registry.define<string>({
      name: 'admin.allowed-hosts',
      type: 'string',
      default: '',
      description: 'Host names (besides IP addresses, localhost and the listener\'s own host) under which the admin listener may be reached, separated by commas; ".example.com" allows that name and every name under it. A request naming another host is refused (421), which defeats DNS rebinding',
      live: true,
    }),
    // Generous for people (a login, a roster, an avatar pass in the burst) and a hard stop
    // for floods: at the default a client sends about a thousand small stanzas a second.
    c2sShaperRate: registry.define<number>({
      name: 'xmpp.c2s.shaper.rate',
      type: 'integer',
      default: 102400,
      min: 0,
      max: 1073741824,
      description: 'Bytes per second a client stream may send on average (TCP, TLS, WebSocket); beyond it the server stops reading until the average is met, which slows the client down without an error. Accounts in admin.jids are not limited. Applies to streams opened afterwards (0: no limit)',
      live: true,
    }),
    c2sShaperBurst: registry.define<number>({
      name: 'xmpp.c2s.shaper.burst',
      type: 'integer',
      default: 524288,
      min: 1024,
      max: 1073741824,
      description: 'Bytes a client stream may send at once before xmpp.c2s.shaper.rate applies (it earns them back at that rate while quiet)',
      live: true,
    }),
  };
}
