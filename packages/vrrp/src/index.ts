export * from './result.js';
export * from './advert.js';
export { compareAddresses } from './address-order.js';
export * from './machine/index.js';
