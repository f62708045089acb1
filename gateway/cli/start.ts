import { createLogger } from '../logger.ts';
import { loadVillageConfig } from '../config/sections.ts';
import { parse, port } from './args.ts';
import { credentialsFromEnv } from './credentials.ts';
import { onReload, onShutdown, runGateway } from './run-gateway.ts';
import { announceCredentials } from './announce.ts';

const USAGE = `usage: npm start -- --config FILE [options]

Run the gateway for a real village.

options:
  --config FILE       village config (YAML); a file holding only "village: NAME" starts
                      an empty gateway ready for commissioning
  --api-port N        HTTP API and status page port (default: api.port or 8080)
  --api-host ADDR     HTTP bind address (default: api.host or 0.0.0.0)
  --mqtt-port N       MQTT broker port (default: broker.port or 1883)
  --data-dir DIR      spool, audit log, broker state, evidence (default: dataDir or .data)
  --influx-url URL    InfluxDB 1.x URL (overrides influx.url)
  -h, --help          this text

environment:
  GATEHOUSE_API_TOKEN, GATEHOUSE_MQTT_USER, GATEHOUSE_MQTT_PASSWORD
                      credentials when the config names no API tokens / MQTT users
                      (else generated and printed once)
  GATEHOUSE_LOG_LEVEL trace | debug | info | warn | error (default info)

signals:
  SIGHUP              reload TLS certificates and the config file's API tokens and MQTT
                      users (nothing else: devices keep polling, MQTT clients stay)
  SIGINT, SIGTERM     stop cleanly`;

export async function start(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      config: { type: 'string' },
      'api-port': { type: 'string' },
      'api-host': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'influx-url': { type: 'string' },
    },
    USAGE,
  );
  if (!values.config) {
    console.error(`--config FILE is required\n\n${USAGE}`);
    process.exit(2);
  }
  const loaded = loadVillageConfig(values.config);
  const log = createLogger({ level: loaded.config.logLevel, pretty: process.stdout.isTTY });
  const credentials = credentialsFromEnv();
  const gw = await runGateway({
    loaded,
    log,
    credentials,
    apiPort: port(values['api-port'], '--api-port'),
    apiHost: values['api-host'],
    mqttPort: port(values['mqtt-port'], '--mqtt-port'),
    dataDir: values['data-dir'],
    influxUrl: values['influx-url'],
  });
  onShutdown(log, () => gw.stop());
  onReload(() => gw.reload());
  announceCredentials(credentials, loaded.config);
  console.log(
    `gateway ready: village ${loaded.config.village}, ${gw.registry.all().length} devices · ` +
      `API ${gw.apiUrl} · MQTT port ${gw.mqttPort} · data ${gw.dataDir}`,
  );
}
