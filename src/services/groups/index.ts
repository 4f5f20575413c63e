/** Process groups: the service, its options and events, and the pure parts it is built on. */
export { Groups, type GroupEvent, type GroupsOptions } from './groups.js';
export { GroupTable, type GroupChange, type GroupSlice } from './table.js';
export { GROUPS_MESSAGE, MAX_GROUP_LENGTH, parseGroupsMessage, type GroupsMessage } from './messages.js';
