// The central broker the tests (and the town demo) run: see device-sims/harness/mosquitto.ts.
export * from '../../device-sims/harness/mosquitto.ts';
