import { loadVillageConfig } from '../config/sections.ts';
import { parse } from './args.ts';

const USAGE = `usage: gatehouse check --config FILE

Validate a village config without starting anything: every problem is printed with
file:line:column and the field, and the exit code is 2. A valid config is summarized.`;

export async function check(argv: string[]): Promise<void> {
  const { values } = parse(argv, { config: { type: 'string' } }, USAGE);
  if (!values.config) {
    console.error(USAGE);
    process.exit(2);
  }
  const { config, file } = loadVillageConfig(values.config);
  console.log(
    `${file}: valid — village ${config.village}, ${config.buses.length} buses, ${config.devices.length} devices`,
  );
  for (const d of config.devices) {
    const where = [d.site ?? config.site, d.lane].filter(Boolean).join('/');
    console.log(`  ${d.id.padEnd(20)} ${d.kind.padEnd(8)} ${d.driver.padEnd(12)} ${where}`);
  }
}
