/** The local simulators of the vendors and company websites (tests and `lead-enrich demo`). */
export { startSimulator, SIM_KEYS } from './server.js';
export type { Simulator, SimulatorOptions } from './server.js';
export type { FaultMode, FaultProfile, ProfileInput } from './faults.js';
export type { RecordedRequest } from './handler.js';
export { SIM_VENDORS } from './types.js';
export type { SimVendor } from './types.js';
