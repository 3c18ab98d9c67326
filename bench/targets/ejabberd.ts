// ejabberd from Debian (`apt-get install ejabberd`), started with ejabberdctl in the
// foreground from a scratch directory (own config, spool, logs and node name) so it never
// touches the packaged service. The module list is Debian's default ejabberd.yml; changes:
// one c2s listener on a free port with STARTTLS optional, the c2s shaper off ("shapers
// off"), a listen backlog of 1024 (the default of 5 drops connections when 50 clients
// connect at once, and they then wait seconds for SYN retries), SCRAM storage as Debian's default, mod_register open to create the benchmark
// accounts, one Erlang scheduler (the server gets one core, as the others do). mod_muc is
// Debian's, with room for the group chat bench's 1,000 occupants (max_users, 200 by default)
// and presence broadcast kept up to that size (max_users_presence, 1,000), as xmppd does;
// its rooms idle while the other benches run.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, pidListeningOn, waitForPort } from '../lib/net-utils.ts';
import { selfSignedCertificate } from './certificate.ts';
import { makeWorkDir, removeWorkDir } from '../lib/work-dir.ts';
import type { Target, TargetOptions } from './target.ts';

export function ejabberdVersion(): string | null {
  try {
    return /^Version:\s*(\S+)/m.exec(execFileSync('dpkg', ['-s', 'ejabberd'], { encoding: 'utf8' }))?.[1] ?? null;
  } catch {
    return null;
  }
}

const MODULES = `modules:
  mod_adhoc: {}
  mod_admin_extra: {}
  mod_announce:
    access: announce
  mod_avatar: {}
  mod_blocking: {}
  mod_caps: {}
  mod_carboncopy: {}
  mod_client_state: {}
  mod_configure: {}
  mod_disco: {}
  mod_fail2ban: {}
  mod_last: {}
  mod_muc:
    access:
      - allow
    access_admin:
      - allow: admin
    access_create: muc_create
    access_persistent: muc_create
    access_mam:
      - allow
    default_room_options:
      mam: true
      max_users: 5000
    max_users: 5000
    max_users_presence: 5000
  mod_offline:
    access_max_user_messages: max_user_offline_messages
  mod_ping: {}
  mod_pres_counter:
    count: 5
    interval: 60
  mod_privacy: {}
  mod_private: {}
  mod_pubsub:
    access_createnode: pubsub_createnode
    plugins:
      - flat
      - pep
  mod_push: {}
  mod_push_keepalive: {}
  mod_register:
    ip_access: all
    access: register
  mod_roster:
    versioning: true
  mod_shared_roster: {}
  mod_sic: {}
  mod_stream_mgmt:
    resend_on_timeout: if_offline
  mod_vcard:
    search: false
  mod_vcard_xupdate: {}
  mod_version: {}
`;

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

export async function startEjabberd(opts: TargetOptions): Promise<Target> {
  const version = ejabberdVersion();
  if (!version) throw new Error('ejabberd is not installed (apt-get install ejabberd)');
  const dir = makeWorkDir('ejabberd');
  const port = await freePort();
  const cert = selfSignedCertificate(dir);
  mkdirSync(join(dir, 'spool'));
  mkdirSync(join(dir, 'logs'));
  copyFileSync('/etc/ejabberd/inetrc', join(dir, 'inetrc'));
  const node = `ejabberd-bench-${port}@localhost`;
  writeFileSync(join(dir, 'ejabberd.yml'), `# Written by bench/targets/ejabberd.ts
loglevel: info
log_rotate_count: 0
hosts:
  - localhost
certfiles:
  - "${cert.pemFile}"
listen:
  -
    port: ${port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    backlog: 1024
    shaper: none
    access: c2s
    starttls: true
    starttls_required: false
auth_password_format: scram
registration_timeout: infinity
acl:
  admin:
     user:
       - ""
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    deny: blocked
    allow: all
  announce:
    allow: admin
  configure:
    allow: admin
  register:
    allow: all
  muc_create:
    allow: local
  pubsub_createnode:
    allow: local
shaper_rules:
  max_user_sessions: 10
  max_user_offline_messages:
    5000: admin
    100: all
${MODULES}`);
  writeFileSync(join(dir, 'ejabberdctl.cfg'), `ERLANG_NODE=${node}
INET_DIST_INTERFACE=127.0.0.1
ERL_MAX_PORTS=65536
ERL_OPTIONS="+S 1:1 +SDcpu 1:1 -env ERL_CRASH_DUMP_BYTES 0"
`);
  const uid = Number(execFileSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' }).trim());
  chownTree(dir, uid, gid);

  const out = openSync(join(dir, 'ejabberd.out'), 'a');
  const ctl = ['--config-dir', dir, '--config', join(dir, 'ejabberd.yml'), '--ctl-config', join(dir, 'ejabberdctl.cfg'),
    '--logs', join(dir, 'logs'), '--spool', join(dir, 'spool'), '--node', node];
  // Started as the ejabberd user directly rather than through ejabberdctl's su, which would
  // reset the open-file limit to PAM's default (1024) and cap the sessions near a thousand.
  const proc = spawn('taskset', ['-c', String(opts.cpu), 'ejabberdctl', ...ctl, 'foreground'], {
    cwd: dir, stdio: ['ignore', out, out], uid, gid, env: { ...process.env, HOME: '/var/lib/ejabberd' },
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  let beam: number;
  try {
    await waitForPort('127.0.0.1', port, 90_000, () => proc.exitCode === null);
    beam = pidListeningOn(port);
  } catch (err) {
    proc.kill('SIGKILL');
    const output = readFileSync(join(dir, 'ejabberd.out'), 'utf8');
    throw new Error(`ejabberd did not start: ${(err as Error).message}\n${output.slice(-2000)}`);
  }
  return {
    name: `ejabberd ${version}`,
    endpoint: { host: '127.0.0.1', port, domain: 'localhost' },
    pids: [beam],
    mechanisms: ['PLAIN', 'SCRAM-SHA-1'],
    logFile: join(dir, 'logs', 'ejabberd.log'),
    async stop() {
      // ejabberdctl runs the VM under su as the ejabberd user: stop the VM itself.
      if (proc.exitCode === null) {
        try {
          process.kill(beam, 'SIGTERM');
        } catch {
          // already gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill(beam, 'SIGKILL');
          } catch {
            // already gone
          }
        }, 20_000);
        await exited;
        clearTimeout(timer);
      }
      removeWorkDir(dir);
    },
  };
}
