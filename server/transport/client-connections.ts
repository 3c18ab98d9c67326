// What the client listeners (TCP 5222 and 5223, HTTP and HTTPS) let in, counted in one place
// from the moment a socket is accepted:
// - every open socket, against a node-wide cap (xmpp.c2s.max-connections) that keeps the
//   process clear of its open-file limit, so the admin listener, the database and the
//   cluster still get descriptors while clients pile up; a socket over the cap is closed at
//   accept, and the refusals are logged once per interval, not once per socket;
// - every connection of an address (a TCP stream from accept, TLS handshake included; a
//   WebSocket; a BOSH session; an HTTPS socket while its handshake runs), against
//   xmpp.c2s.max-connections-per-ip. The transports carry the verdict (`admitted`) to the
//   stream, which refuses with <policy-violation/>.
// The per-transport figures of /status and /metrics (ServerStats.connections) are bumped here
// too, so nothing above the transports counts connections.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type net from 'node:net';
import type { Logger } from '../log.ts';
import type { CoreProperties } from '../properties/core-properties.ts';
import type { ServerStats } from '../stats.ts';
import { StreamError } from '../xml/errors.ts';
import type { Transport, TransportKind } from './transport.ts';

/** Descriptors never given to client sockets, whatever xmpp.c2s.max-connections says. */
const RESERVED_DESCRIPTORS = 128;
/** At most one log line per this interval about sockets refused at the cap. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;
/** Assumed when the limit cannot be read (the usual soft limit). */
const FALLBACK_OPEN_FILE_LIMIT = 1024;

/** One connection of an address, counted until release() (which may be called more than once). */
export interface AddressSlot {
  /** False when the address already had xmpp.c2s.max-connections-per-ip connections. */
  readonly admitted: boolean;
  release(): void;
}

/** What a transport reads, live, of the limits (system properties). */
export interface TransportLimits {
  /** Bytes that may wait for a peer that does not read before its stream is closed. */
  readonly sendQueueMaxBytes: number;
  /** Longest a TLS handshake may take, in milliseconds. */
  readonly handshakeTimeoutMs: number;
  /**
   * A transport found more than sendQueueMaxBytes waiting for its peer: counts and logs it,
   * and returns the stream error to close the stream with.
   */
  sendQueueOverflow(transport: Pick<Transport, 'kind' | 'remoteAddress'>, queuedBytes: number): StreamError;
}

/** Counts connections of an address: what the web transports need of ClientConnections. */
export interface AddressCounter extends TransportLimits {
  open(address: string, kind: TransportKind | null): AddressSlot;
}

export class ClientConnections implements AddressCounter {
  private readonly perAddress = new Map<string, number>();
  private refusedSinceLog = 0;
  private refusalLogTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly stats: ServerStats,
    private readonly core: CoreProperties,
    private readonly log: Logger,
    /** The process's open-file limit (RLIMIT_NOFILE, soft). */
    readonly openFileLimit: number = readOpenFileLimit(),
  ) {}

  /** The most client sockets kept open at once: the property, or (0) sized from the open-file limit. */
  get maxSockets(): number {
    const ceiling = Math.max(1, this.openFileLimit - RESERVED_DESCRIPTORS);
    const configured = this.core.c2sMaxConnections.value;
    return configured === 0 ? automaticSocketCap(this.openFileLimit) : Math.min(configured, ceiling);
  }

  get sendQueueMaxBytes(): number {
    return this.core.c2sSendQueueMaxBytes.value;
  }

  get handshakeTimeoutMs(): number {
    return this.core.tlsHandshakeTimeout.value * 1000;
  }

  /**
   * RFC 6120 4.9.3.17 <resource-constraint/> ("the server lacks the system resources necessary
   * to service the stream") rather than <policy-violation/>, which is about something the peer
   * sent: this peer sent nothing wrong, it does not read, and the server will not buffer more
   * for it. A peer that does not read the error either is cut by the transport's close grace.
   */
  sendQueueOverflow(transport: Pick<Transport, 'kind' | 'remoteAddress'>, queuedBytes: number): StreamError {
    this.stats.sendQueueOverflows++;
    this.log.info('closing a stream whose peer does not read what is sent to it', {
      transport: transport.kind, address: transport.remoteAddress, queuedBytes, limit: this.sendQueueMaxBytes,
    });
    return new StreamError('resource-constraint', 'Too much data is waiting for you to read it');
  }

  /**
   * A socket a client listener has just accepted, before anything is read from it. Counted
   * until it closes; false (and the socket destroyed) when the node is at its cap.
   */
  admitSocket(socket: net.Socket): boolean {
    if (this.stats.clientSockets >= this.maxSockets) {
      socket.destroy();
      this.stats.refusedSockets++;
      this.noteRefusal();
      return false;
    }
    this.stats.clientSockets++;
    socket.once('close', this.socketClosed);
    return true;
  }

  private readonly socketClosed = (): void => {
    this.stats.clientSockets--;
  };

  /** Counts one connection of `address` (and, with a kind, one of that transport). */
  open(address: string, kind: TransportKind | null): AddressSlot {
    const n = (this.perAddress.get(address) ?? 0) + 1;
    this.perAddress.set(address, n);
    if (kind) this.stats.opened(kind);
    const limit = this.core.c2sMaxConnectionsPerIp.value;
    let released = false;
    return {
      admitted: limit === 0 || n <= limit,
      release: () => {
        if (released) return;
        released = true;
        if (kind) this.stats.closed(kind);
        const left = (this.perAddress.get(address) ?? 1) - 1;
        if (left > 0) this.perAddress.set(address, left);
        else this.perAddress.delete(address);
      },
    };
  }

  /** The first refusal is logged at once; the ones after it as a count at the end of each interval. */
  private noteRefusal(): void {
    if (this.refusalLogTimer) {
      this.refusedSinceLog++;
      return;
    }
    this.log.warn('refusing new client connections: the node is at its connection limit (xmpp.c2s.max-connections)', {
      open: this.stats.clientSockets, limit: this.maxSockets,
    });
    this.armRefusalLog();
  }

  private armRefusalLog(): void {
    this.refusalLogTimer = setTimeout(() => {
      this.refusalLogTimer = null;
      if (this.refusedSinceLog === 0) return;
      this.log.warn('client connections refused at the connection limit (xmpp.c2s.max-connections)', {
        refused: this.refusedSinceLog, seconds: REFUSAL_LOG_INTERVAL_MS / 1000, open: this.stats.clientSockets, limit: this.maxSockets,
      });
      this.refusedSinceLog = 0;
      this.armRefusalLog();
    }, REFUSAL_LOG_INTERVAL_MS);
    this.refusalLogTimer.unref();
  }
}

/**
 * The cap when xmpp.c2s.max-connections is 0: three quarters of the open-file limit, and at
 * least 256 descriptors below it (half of it for a very low limit). The rest is for what a
 * node opens besides client sockets: the admin listener and its connections, the database,
 * Hazelcast and the cluster links, plugin files, Node.js itself.
 */
export function automaticSocketCap(openFileLimit: number): number {
  return Math.max(Math.floor(openFileLimit / 2), Math.min(Math.floor(openFileLimit * 0.75), openFileLimit - 256));
}

/**
 * The soft RLIMIT_NOFILE of this process (Node.js raises it to the hard limit at start):
 * /proc/self/limits on Linux, else what `ulimit -n` says in a shell started from here.
 */
export function readOpenFileLimit(): number {
  try {
    const line = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) return parseLimit(line[1]!);
  } catch {
    // Not Linux: ask a shell, which inherits our limits.
  }
  try {
    const out = spawnSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 2_000 });
    if (out.status === 0) return parseLimit(out.stdout.trim());
  } catch {
    // Fall through.
  }
  return FALLBACK_OPEN_FILE_LIMIT;
}

function parseLimit(text: string): number {
  if (text === 'unlimited') return 1_048_576;
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : FALLBACK_OPEN_FILE_LIMIT;
}
