export * from './vendor.js';
export * from './errors.js';
export * from './company.js';
export * from './reasons.js';
export * from './provenance.js';
export * from './ports.js';
export * from './events.js';
export * from './clock.js';
