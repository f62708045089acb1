import type { BrokerUser } from '../broker/config.ts';
import type { VillageConfig } from '../config/load.ts';
import { hashToken, type TokenEntry } from './tokens.ts';

/** The demo's and a bare config's fallback credentials (from the environment, or generated). */
export interface FallbackCredentials {
  apiToken: string;
  mqttUser: string;
  mqttPassword: string;
}

export type ApiTokenConfig = VillageConfig['api']['tokens'][number];
export type HashedToken = TokenEntry & { tokenHash: string };

export interface Credentials {
  tokens: HashedToken[];
  users: BrokerUser[];
}

/** A token from the config, hashed at once: a plain one (env or file reference) is not kept. */
export function hashedToken(t: ApiTokenConfig): HashedToken {
  return {
    name: t.name,
    role: t.role,
    tokenHash: 'tokenHash' in t ? t.tokenHash : hashToken(t.token),
    ...(t.expires !== undefined ? { expiresAt: Date.parse(t.expires) } : {}),
  };
}

/**
 * API tokens and MQTT users of a config. One that names no tokens gets one admin token,
 * one that names no users one admin user, both from the fallback. Used at start and by
 * every reload, so both apply the same rule.
 */
export function credentialsOf(
  config: Pick<VillageConfig, 'api' | 'broker'>,
  fallback: FallbackCredentials,
): Credentials {
  const tokens = config.api.tokens.map(hashedToken);
  if (tokens.length === 0)
    tokens.push({ name: 'admin', role: 'admin', tokenHash: hashToken(fallback.apiToken) });
  const users = [...config.broker.users];
  if (users.length === 0)
    users.push({ username: fallback.mqttUser, password: fallback.mqttPassword, role: 'admin' });
  return { tokens, users };
}
