import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { loadConfig } from '../config/load-config.ts';
import type { ServerConfig } from '../config/types.ts';
import { Logger } from '../log.ts';
import type { LogFields } from '../log.ts';
import { CertificateError, generatedPaths, loadOrCreateCertificate } from './certificates.ts';

const dir = mkdtempSync(join(tmpdir(), 'xmppd-tls-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

class RecordingLogger extends Logger {
  readonly warnings: string[] = [];
  constructor() {
    super('test');
  }
  override warn(msg: string, _fields?: LogFields): void {
    this.warnings.push(msg);
  }
  override info(): void {}
}

function config(domain: string, env: Record<string, string> = {}): ServerConfig {
  return loadConfig({ file: null, env: { XMPPD_DOMAIN: domain, XMPPD_DATA_DIR: join(dir, domain), ...env } });
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CertificateError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test('generates a self-signed pair on first start, then reuses it', async () => {
  const c = config('example.net');
  const first = await loadOrCreateCertificate(c, new RecordingLogger());
  assert.equal(first.generated, true);
  const { certPath, keyPath } = generatedPaths(c);
  assert.equal(certPath, join(c.dataDir, 'tls', 'example.net.crt'));
  assert.equal(statSync(keyPath).mode & 0o777, 0o600);
  assert.equal(readFileSync(certPath, 'utf8'), first.cert);

  const x509 = new X509Certificate(first.cert);
  assert.equal(x509.subjectAltName, 'DNS:example.net, DNS:*.example.net, DNS:localhost');
  assert.ok(x509.checkPrivateKey(createPrivateKey(first.key)));
  assert.equal(x509.publicKey.asymmetricKeyType, 'rsa');
  assert.equal(x509.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const years = (Date.parse(x509.validTo) - Date.now()) / (365.25 * 86_400_000);
  assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);

  const second = await loadOrCreateCertificate(c, new RecordingLogger());
  assert.equal(second.generated, false);
  assert.equal(second.cert, first.cert);
  assert.equal(second.key, first.key);
});

test('an IP literal domain gets an IP subject alternative name', async () => {
  const c = config('[::1]');
  const { cert } = await loadOrCreateCertificate(c, new RecordingLogger());
  assert.ok(new X509Certificate(cert).checkIP('::1'));
  assert.equal(generatedPaths(c).certPath, join(c.dataDir, 'tls', '___1_.crt'));
});

test('an expired generated certificate is replaced', async () => {
  const c = config('old.example');
  const { certPath, keyPath } = generatedPaths(c);
  await loadOrCreateCertificate(c, new RecordingLogger());
  const expired = await generate([{ name: 'commonName', value: 'old.example' }], {
    notBeforeDate: new Date(Date.now() - 3 * 86_400_000),
    notAfterDate: new Date(Date.now() - 86_400_000),
  });
  writeFileSync(certPath, expired.cert);
  writeFileSync(keyPath, expired.private);
  const log = new RecordingLogger();
  const renewed = await loadOrCreateCertificate(c, log);
  assert.equal(renewed.generated, true);
  assert.ok(Date.parse(new X509Certificate(renewed.cert).validTo) > Date.now());
  assert.deepEqual(log.warnings, ['self-signed certificate expired, generating a new one']);
});

test('configured files are used as they are, with warnings when they do not fit', async () => {
  const source = generatedPaths(config('example.net'));
  await loadOrCreateCertificate(config('example.net'), new RecordingLogger());
  const c = config('other.example', { XMPPD_TLS_CERT: source.certPath, XMPPD_TLS_KEY: source.keyPath });
  const log = new RecordingLogger();
  const loaded = await loadOrCreateCertificate(c, log);
  assert.equal(loaded.generated, false);
  assert.equal(loaded.cert, readFileSync(source.certPath, 'utf8'));
  assert.deepEqual(log.warnings, ['TLS certificate does not name the domain']);
});

test('unreadable, non-PEM or mismatched configured files are clear errors naming the path', async () => {
  const a = generatedPaths(config('example.net'));
  const b = generatedPaths(config('old.example'));
  const missing = join(dir, 'missing.crt');
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'hello');
  const withFiles = (cert: string, key: string) =>
    loadOrCreateCertificate(config('example.net', { XMPPD_TLS_CERT: cert, XMPPD_TLS_KEY: key }), new RecordingLogger());

  await rejectsWith(withFiles(missing, a.keyPath), new RegExp(`^cannot read TLS certificate ${missing}: ENOENT$`));
  await rejectsWith(withFiles(garbage, a.keyPath), new RegExp(`^TLS certificate ${garbage} is not a PEM certificate`));
  await rejectsWith(withFiles(a.certPath, garbage), new RegExp(`^TLS key ${garbage} is not a PEM private key`));
  await rejectsWith(withFiles(a.certPath, b.keyPath), new RegExp(`^TLS key ${b.keyPath} does not belong to certificate ${a.certPath}$`));
});
