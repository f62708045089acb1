import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { DeviceError, DriverError } from '../../drivers/contract/errors.ts';
import { COMMAND_FAILURES, CommandFailureSchema, failureOf } from '../../gateway/commands/failures.ts';

const START = '<!-- failure-reasons:start -->';
const END = '<!-- failure-reasons:end -->';

/** The README block as the source table writes it (prettier leaves it as is). */
function expectedBlock(): string {
  const lines = COMMAND_FAILURES.map((f) => `- \`${f.title}\`: ${f.description}`);
  return [START, '', ...lines, '', END].join('\n');
}

describe('command failure reasons', () => {
  it('each has a written form and a sentence for people', () => {
    for (const f of COMMAND_FAILURES) {
      expect(f.title).toBeTruthy();
      expect(f.description).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('README.md lists them as gateway/commands/failures.ts does', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start, `README.md holds ${START} … ${END}`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const actual = readme.slice(start, end + END.length);
    const expected = expectedBlock();
    if (actual !== expected) {
      console.log(`README.md is out of date; replace its failure reasons with:\n\n${expected}\n`);
    }
    expect(actual).toBe(expected);
  });

  it('the API schema accepts every reason the service gives and nothing else', () => {
    const given = [
      'interlock:loop-occupied',
      'interlock:photo-eye-blocked',
      'interlock:barrier-fault:1',
      'interlock:barrier-fault:-1',
      'interlock-tripped:loop-occupied',
      'interlock-tripped:photo-eye-blocked',
      'barrier-fault:12',
      'timeout',
      'rejected-by-controller',
      'unsupported',
      'device-error:timeout',
      'device-error:barrier-fault:3',
      'driver-error',
      'gateway-restarted',
    ];
    for (const reason of given) expect(Value.Check(CommandFailureSchema, reason), reason).toBe(true);
    for (const reason of ['interlock:other', 'barrier-fault:x', 'device-error:sunspots', 'reversed:loop'])
      expect(Value.Check(CommandFailureSchema, reason), reason).toBe(false);
  });

  it('names a driver failure by its error kind', () => {
    expect(failureOf(new DeviceError('crc-error', 'bad crc'))).toBe('device-error:crc-error');
    expect(failureOf(new DriverError('rejected', 'no'))).toBe('rejected-by-controller');
    expect(failureOf(new DriverError('unsupported', 'no relay'))).toBe('unsupported');
    expect(failureOf(new DriverError('invalid-argument', 'bad'))).toBe('driver-error');
    expect(failureOf(new Error('boom'))).toBe('driver-error');
  });
});
