export { Simulation } from './simulation.js';
export type { LinkModel, SimRouterSpec, SimulationOptions, Transition } from './simulation.js';
export { SeededRandom } from './random.js';
