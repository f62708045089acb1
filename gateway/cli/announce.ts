import type { VillageConfig } from '../config/load.ts';
import type { Credentials } from './credentials.ts';

/** Generated credentials are shown once, on stdout, never through the logger. */
export function announceCredentials(c: Credentials, config: Pick<VillageConfig, 'api' | 'broker'>): void {
  const lines: string[] = [];
  if (c.generated.includes('apiToken') && !(config.api?.tokens?.length ?? 0)) {
    lines.push(`  API token (admin):  ${c.apiToken}   (set GATEHOUSE_API_TOKEN to choose it)`);
  }
  const users = (config.broker as { users?: unknown[] } | undefined)?.users ?? [];
  if (c.generated.includes('mqttPassword') && users.length === 0) {
    lines.push(
      `  MQTT user (admin):  ${c.mqttUser} / ${c.mqttPassword}   (set GATEHOUSE_MQTT_PASSWORD to choose it)`,
    );
  }
  if (lines.length > 0) console.log(['generated credentials, shown only now:', ...lines].join('\n'));
}
