// Jest setupFiles entry for every package (jest.preset.js): fast-check draws from one fixed
// seed, so a property test explores the same cases on every run and a failure replays as is.
// KEEPVIP_FC_SEED picks another seed to explore further; a failure prints the seed and path.
import fc from 'fast-check';

const seed = Number(process.env.KEEPVIP_FC_SEED ?? 20261127);
if (!Number.isSafeInteger(seed)) throw new Error(`KEEPVIP_FC_SEED=${process.env.KEEPVIP_FC_SEED} is not an integer`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
