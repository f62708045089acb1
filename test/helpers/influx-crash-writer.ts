/**
 * Child process for influx-crash.test.ts: pushes numbered barrier points through an
 * InfluxSink and, after each flush() (everything so far written or durably spooled),
 * prints `acked <n>`: points 0..n-1 must survive a SIGKILL from then on.
 * Usage: tsx influx-crash-writer.ts --data-dir DIR --db NAME [--url URL]
 * Bounded: stops after 300,000 points or 60 s and prints `done`.
 */
import pino from 'pino';
import { parseArgs } from 'node:util';
import { resolveInfluxSinkConfig } from '../../gateway/sinks/influx/config.ts';
import { InfluxSink } from '../../gateway/sinks/influx/influx-sink.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    db: { type: 'string' },
    url: { type: 'string' },
    base: { type: 'string' },
  },
});
const sink = new InfluxSink({
  config: resolveInfluxSinkConfig({
    url: values.url,
    database: values.db,
    batchSize: 250,
    flushIntervalMs: 100,
  }),
  village: 'crash',
  dataDir: values['data-dir']!,
  logger: pino({ level: 'warn' }, pino.destination(2)),
  maxBackoffMs: 500,
});
await sink.start();
console.log(`started ${sink.status()}`);
const base = Number(values.base);
const deadline = Date.now() + 60_000;
let seq = 0;
while (seq < 300_000 && Date.now() < deadline) {
  for (let i = 0; i < 250; i++, seq++) {
    sink.handle({
      type: 'telemetry',
      device: { id: `b${seq % 10}`, kind: 'barrier' },
      fields: { cycles: seq, supply_v: 24 },
      time: base + seq,
    });
  }
  await sink.flush();
  console.log(`acked ${seq}`);
}
console.log('done');
await sink.close();
