export * from './result.js';
export * from './advert.js';
export { compareAddresses } from './address-order.js';
export * from './machine/index.js';
export * from './sim/index.js';
export * from './codec/index.js';
