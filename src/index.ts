export * from './pools/index.ts';
export * from './operators/index.ts';
export * from './errors.ts';
