export * from './pools/index.ts';
export * from './operators/index.ts';
export * from './streams/index.ts';
export * from './stats/index.ts';
