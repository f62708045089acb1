import { discover as runDiscovery } from '../../drivers/onvif/discovery.ts';
import { parse, port } from './args.ts';
import { progressBar } from './progress.ts';

const USAGE = `usage: gatehouse discover [--cidr 10.0.5.0/24] [--hosts a,b,c] [--interface LOCAL_IP] [options]

Find ONVIF cameras for commissioning. A multicast probe goes out only on the interface
you name (cameras often sit on their own network); a unicast scan of a CIDR or host list
also finds cameras behind NAT or in containers, where multicast does not reach.

options:
  --cidr CIDR           scan these addresses by unicast WS-Discovery (at most /16)
  --hosts LIST          comma-separated hosts to probe
  --interface IP        also send a multicast probe from this local address
  --port N              WS-Discovery port (default 3702)
  --http-ports LIST     also try http://host:PORT/onvif/device_service on these ports
  --user U              check these credentials on every camera found
  --password-env VAR    read the password from this environment variable
  --timeout-ms N        per-host answer timeout (default 2000)
  --json                print JSON instead of a table`;

export async function discover(argv: string[]): Promise<void> {
  const { values } = parse(
    argv,
    {
      cidr: { type: 'string' },
      hosts: { type: 'string' },
      interface: { type: 'string' },
      port: { type: 'string' },
      'http-ports': { type: 'string' },
      user: { type: 'string' },
      'password-env': { type: 'string' },
      'timeout-ms': { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  if (!values.cidr && !values.hosts && !values.interface) {
    console.error(`give --cidr, --hosts or --interface\n\n${USAGE}`);
    process.exit(2);
  }
  const password = values['password-env'] ? process.env[values['password-env']] : undefined;
  const bar = progressBar('hosts', 'cameras');
  const found = await runDiscovery({
    ...(values.cidr ? { cidr: values.cidr } : {}),
    ...(values.hosts ? { hosts: values.hosts.split(',').map((h) => h.trim()) } : {}),
    ...(values.interface ? { multicast: true, multicastInterface: values.interface } : {}),
    ...(values.port ? { port: port(values.port, '--port') } : {}),
    ...(values['http-ports'] ? { httpPorts: values['http-ports'].split(',').map(Number) } : {}),
    ...(values.user ? { username: values.user } : {}),
    ...(password ? { password } : {}),
    ...(values['timeout-ms'] ? { timeoutMs: Number(values['timeout-ms']) } : {}),
    onProgress: (p) => bar.update(p),
  }).finally(() => bar.stop());
  if (values.json) {
    console.log(JSON.stringify(found, null, 2));
    return;
  }
  if (found.length === 0) console.log('no ONVIF devices answered');
  for (const d of found) {
    console.log(
      `${d.address.padEnd(16)} ${d.manufacturer ?? '?'} ${d.model ?? d.hardware ?? '?'} fw ${d.firmware ?? '?'} ` +
        `auth ${d.auth}${d.error ? ` (${d.error})` : ''}\n${' '.repeat(17)}${d.xaddrs.join(' ')}`,
    );
  }
}
