// moved down into the core room (the runner stops its children's groups too); kept here for deploy's imports
export { groupAlive, stopGroupsSync } from '../process/process-group.js';
