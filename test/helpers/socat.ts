export * from '../../gateway/util/socat.ts';
