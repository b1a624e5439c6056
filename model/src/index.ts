export * from './dimensions';
export * from './filters';
export * from './query';
