/** The global registry: the service, its options and events, and the pure parts it is built on. */
export { Registry, type NameConflict, type RegisterOptions, type RegistryEvent, type RegistryEvents, type RegistryOptions } from './registry.js';
export { compareEntries, makeEntry, MAX_NAME_LENGTH, pickWinner, type Entry } from './entry.js';
export { RegistryTable, type ViewChange } from './table.js';
export { REGISTRY_MESSAGE, parseRegistryMessage, type RegistryMessage } from './messages.js';
