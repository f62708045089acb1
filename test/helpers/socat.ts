export * from '../../device-sims/harness/socat.ts';
