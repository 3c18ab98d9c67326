// The TLS certificate and key the listeners use: the configured PEM files, or else a
// self-signed pair generated once under <dataDir>/tls/ so that a fresh install can offer
// STARTTLS (and refuse plaintext authentication) from its first start.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { ServerConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';

export class CertificateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertificateError';
  }
}

export interface TlsCredentials {
  /** PEM certificate, followed by its chain when the file has one. */
  cert: string;
  key: string;
  generated: boolean;
}

const VALIDITY_YEARS = 10;

export async function loadOrCreateCertificate(config: ServerConfig, log: Logger): Promise<TlsCredentials> {
  if (config.tls.cert !== null && config.tls.key !== null) {
    const pair = readPair(config.tls.cert, config.tls.key);
    warnIfUnfit(pair.x509, config.tls.cert, config.domain, log);
    return { cert: pair.cert, key: pair.key, generated: false };
  }

  const { certPath, keyPath } = generatedPaths(config);
  if (existsSync(certPath) && existsSync(keyPath)) {
    // A pair we generated earlier; if someone replaced it with something unreadable, say so
    // rather than overwrite it.
    const pair = readPair(certPath, keyPath);
    if (validTo(pair.x509) > Date.now()) return { cert: pair.cert, key: pair.key, generated: false };
    log.warn('self-signed certificate expired, generating a new one', { cert: certPath });
  }
  const cert = await createSelfSigned(config.domain);
  mkdirSync(join(config.dataDir, 'tls'), { recursive: true, mode: 0o700 });
  // Write beside the target, then rename: a crash never leaves a half-written PEM file.
  writeAtomically(keyPath, cert.key, 0o600);
  writeAtomically(certPath, cert.cert, 0o644);
  log.info('generated a self-signed TLS certificate; clients will not trust it until configured with a real one', {
    domain: config.domain,
    cert: certPath,
  });
  return { ...cert, generated: true };
}

/** Where the generated pair for the configured domain lives. */
export function generatedPaths(config: ServerConfig): { certPath: string; keyPath: string } {
  // IPv6 literals ([::1]) hold characters that do not belong in file names.
  const base = config.domain.replace(/[^a-z0-9.-]/gi, '_');
  return { certPath: join(config.dataDir, 'tls', `${base}.crt`), keyPath: join(config.dataDir, 'tls', `${base}.key`) };
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CertificateError(`cannot read TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function readPair(certPath: string, keyPath: string): { cert: string; key: string; x509: X509Certificate } {
  const cert = readPem(certPath, 'certificate');
  const key = readPem(keyPath, 'key');
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new CertificateError(`TLS certificate ${certPath} is not a PEM certificate (no BEGIN CERTIFICATE line)`);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) throw new CertificateError(`TLS key ${keyPath} is not a PEM private key (no BEGIN PRIVATE KEY line)`);
  let x509: X509Certificate;
  let privateKey: KeyObject;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new CertificateError(`TLS certificate ${certPath} cannot be parsed: ${(err as Error).message}`);
  }
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new CertificateError(`TLS key ${keyPath} cannot be parsed (an encrypted key is not supported): ${(err as Error).message}`);
  }
  if (!x509.checkPrivateKey(privateKey)) throw new CertificateError(`TLS key ${keyPath} does not belong to certificate ${certPath}`);
  return { cert, key, x509 };
}

/** Clients will refuse these, but an operator may be mid-renewal, so start anyway and say why. */
function warnIfUnfit(x509: X509Certificate, path: string, domain: string, log: Logger): void {
  if (validTo(x509) <= Date.now()) log.warn('TLS certificate has expired', { cert: path, validTo: x509.validTo });
  if (Date.parse(x509.validFrom) > Date.now()) log.warn('TLS certificate is not valid yet', { cert: path, validFrom: x509.validFrom });
  const ip = stripBrackets(domain);
  const covered = isIP(ip) ? x509.checkIP(ip) : x509.checkHost(domain);
  if (!covered) log.warn('TLS certificate does not name the domain', { cert: path, domain, subjectAltName: x509.subjectAltName });
}

// validToDate only exists from Node 22; the string form parses with Date.
function validTo(x509: X509Certificate): number {
  return Date.parse(x509.validTo);
}

function stripBrackets(domain: string): string {
  return domain.startsWith('[') ? domain.slice(1, -1) : domain;
}

async function createSelfSigned(domain: string): Promise<{ cert: string; key: string }> {
  const ip = stripBrackets(domain);
  const altNames = isIP(ip)
    ? [{ type: 7 as const, ip }, { type: 2 as const, value: 'localhost' }]
    : [...new Set([domain, `*.${domain}`, 'localhost'])].map((value) => ({ type: 2 as const, value }));
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: ip }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    // A day back so a client whose clock runs a little late still accepts it.
    notBeforeDate: new Date(now - 86_400_000),
    notAfterDate: new Date(now + VALIDITY_YEARS * 365.25 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

function writeAtomically(path: string, content: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
}
