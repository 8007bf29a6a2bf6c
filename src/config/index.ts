export type { Config, RetryConfig, BreakerConfig, VendorEndpoint } from './config.js';
export { loadConfig, loadConfigWith, describeConfig, configFrom, ConfigError, isConfigError, maskSecret, maskUrl } from './load.js';
export type { ConfigProblem } from './load.js';
export { VARIABLES, isConfigVariable } from './variables.js';
export { vendorsOn } from '../domain/vendor.js';
