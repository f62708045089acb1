import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { freePort, startProcess, type Proc } from './child.ts';

export interface MosquittoUser {
  username: string;
  password: string;
}

export interface MosquittoTls {
  cafile: string;
  certfile: string;
  keyfile: string;
  /** Clients must present a certificate signed by `cafile`; its CN is their user name. */
  requireCertificate?: boolean;
}

export interface Mosquitto {
  port: number;
  /** The TLS listener's port, when asked for one. */
  tlsPort?: number;
  dir: string;
  proc: Proc;
  /** Stop by PID (SIGTERM). The config, password file and persistence stay for a restart. */
  stop(): Promise<void>;
  /** Start again on the same port with the same files (persistence included). */
  restart(): Promise<void>;
  /** Stop and remove the temp dir. */
  dispose(): Promise<void>;
}

/**
 * A real Debian mosquitto on 127.0.0.1 and a random port, with a temp config:
 * password file (mosquitto_passwd), optional ACL lines, persistence on disk.
 */
export async function startMosquitto(opts: {
  users: MosquittoUser[];
  acl?: string[];
  maxInflight?: number;
  port?: number;
  /** A second listener with TLS, beside the plain one. */
  tls?: MosquittoTls;
}): Promise<Mosquitto> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gh-mosquitto-'));
  const port = opts.port ?? (await freePort());
  const pwfile = path.join(dir, 'passwd');
  writeFileSync(pwfile, '');
  for (const u of opts.users) execFileSync('mosquitto_passwd', ['-b', pwfile, u.username, u.password]);
  const lines = [
    `listener ${port} 127.0.0.1`,
    // run as whoever started it: as root, mosquitto would switch to its own user, who cannot read the temp dir
    `user ${userInfo().username}`,
    'allow_anonymous false',
    `password_file ${pwfile}`,
    'persistence true',
    `persistence_location ${dir}/`,
    'autosave_interval 1',
    `max_inflight_messages ${opts.maxInflight ?? 20}`,
    'log_dest stderr', // stdout is block-buffered into a pipe; stderr arrives line by line
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
  ];
  const tlsPort = opts.tls ? await freePort() : undefined;
  if (opts.tls) {
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${opts.tls.cafile}`,
      `certfile ${opts.tls.certfile}`,
      `keyfile ${opts.tls.keyfile}`,
    );
    if (opts.tls.requireCertificate) lines.push('require_certificate true', 'use_identity_as_username true');
  }
  if (opts.acl) {
    const aclFile = path.join(dir, 'acl');
    writeFileSync(aclFile, opts.acl.join('\n') + '\n');
    lines.push(`acl_file ${aclFile}`);
  }
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');

  const launch = async (): Promise<Proc> => {
    const proc = startProcess('mosquitto', ['-c', conf]);
    await proc.waitFor(/ running$/m, 10_000);
    return proc;
  };
  const m: Mosquitto = {
    port,
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    dir,
    proc: await launch(),
    async stop() {
      await m.proc.stop();
    },
    async restart() {
      await m.proc.stop();
      m.proc = await launch();
    },
    async dispose() {
      await m.proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return m;
}
