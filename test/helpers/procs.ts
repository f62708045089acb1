// Process helpers live in the product (the demo launches real processes too); tests use the same ones.
export * from '../../device-sims/harness/child.ts';
