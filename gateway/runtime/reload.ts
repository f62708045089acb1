import type { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { CredentialsReload } from '../api/context.ts';
import type { Credentials } from '../credentials/from-config.ts';
import type { TokenStore } from '../credentials/tokens.ts';
import type { BrokerUser } from '../broker/config.ts';
import { GatehouseError, isGatehouseError } from '../errors.ts';
import { loadServerCertificate } from '../tls/files.ts';
import type { TlsServerFiles } from '../tls/schema.ts';

export interface ReloadTargets {
  tokens: TokenStore;
  broker: {
    setUsers(users: readonly BrokerUser[]): { disconnected: string[] };
    reloadTls(): { subject: string; serial: string; validTo: string } | undefined;
  };
  bridge?: { reloadTls(): void };
  /** The API's HTTPS server and its files, when it serves TLS. */
  api?: { server: TlsServer; files: TlsServerFiles; baseDir: string };
  /** Re-reads the config file's credentials; absent, credentials cannot be reloaded. */
  credentials?: () => Credentials;
  log: Logger;
}

/**
 * What SIGHUP and the admin route reload: credentials (tokens, MQTT users) and
 * certificates. Nothing else moves: devices keep polling, connected MQTT clients whose
 * user still holds stay connected, a failed reload keeps what was in force.
 */
export class Reloader {
  constructor(private readonly t: ReloadTargets) {}

  reloadCredentials(): CredentialsReload {
    if (!this.t.credentials) {
      throw new GatehouseError('GH_CREDENTIALS_RELOAD', {
        detail: 'the gateway was started without a config file',
      });
    }
    let fresh: Credentials;
    try {
      fresh = this.t.credentials();
    } catch (err) {
      const detail = isGatehouseError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
      throw new GatehouseError('GH_CREDENTIALS_RELOAD', { detail }, { cause: err });
    }
    this.t.tokens.replace(fresh.tokens);
    const { disconnected } = this.t.broker.setUsers(fresh.users);
    const report = { tokens: fresh.tokens.length, mqttUsers: fresh.users.length, disconnected };
    this.t.log.info(report, 'credentials reloaded');
    return report;
  }

  /** Swap in renewed certificates; a listener whose files do not fit keeps its old ones. */
  reloadCertificates(): void {
    const { api, log } = this.t;
    const attempt = (what: string, fn: () => unknown) => {
      try {
        const certificate = fn();
        if (certificate) log.info({ certificate }, `${what}: certificate reloaded`);
      } catch (err) {
        log.error(
          { code: isGatehouseError(err) ? err.code : undefined, err },
          `${what}: certificate not reloaded`,
        );
      }
    };
    if (api) {
      attempt('api', () => {
        const loaded = loadServerCertificate('api.tls', api.files, api.baseDir);
        api.server.setSecureContext(loaded.options);
        return loaded.summary;
      });
    }
    attempt('broker', () => this.t.broker.reloadTls());
    attempt('bridge', () => this.t.bridge?.reloadTls());
  }

  /** SIGHUP: everything, logging what failed instead of throwing. */
  all(): void {
    this.t.log.info('SIGHUP: reloading certificates and credentials');
    this.reloadCertificates();
    try {
      this.reloadCredentials();
    } catch (err) {
      this.t.log.error(
        { code: isGatehouseError(err) ? err.code : undefined, err: (err as Error).message },
        'credentials not reloaded',
      );
    }
  }
}
