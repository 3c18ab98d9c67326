// The TLS context every listener of a node uses (STARTTLS, direct TLS, HTTPS), replaceable
// while the node runs: a renewed certificate is read on SIGHUP and applies to every handshake
// from then on. Connections already encrypted keep the context they were made with, so no
// client is disconnected.
import tls from 'node:tls';

export class ReloadableSecureContext {
  #current: tls.SecureContext;
  #cert: string;

  constructor(credentials: { cert: string; key: string }) {
    this.#current = tls.createSecureContext(credentials);
    this.#cert = credentials.cert;
  }

  /** The certificate (PEM, with its chain) handshakes use now, for the admin's server page. */
  get certificate(): string {
    return this.#cert;
  }

  /** The context for a handshake starting now. */
  get current(): tls.SecureContext {
    return this.#current;
  }

  /** Replaces the context; throws (and keeps the old one) if the pair does not make one. */
  replace(credentials: { cert: string; key: string }): void {
    this.#current = tls.createSecureContext(credentials);
    this.#cert = credentials.cert;
  }
}
