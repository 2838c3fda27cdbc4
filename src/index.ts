export * from './pools/index.ts';
export * from './errors.ts';
