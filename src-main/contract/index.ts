export * from './errors.js';
export * from './result.js';
export * from './dto.js';
export * from './lab.js';
export * from './events.js';
export * from './commands.js';
export * from './validate.js';
export * from './hosts.js';
