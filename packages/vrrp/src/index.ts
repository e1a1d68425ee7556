export * from './result.js';
export * from './advert.js';
