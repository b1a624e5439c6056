export * from './dimensions';
export * from './filters';
