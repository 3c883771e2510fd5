// Public door of the MongoDB stand-in (see packages/testkit/MONGO.md).
export { type MongoStandIn, type MongoStandInOptions, type StandInLogger, startMongoStandIn } from './server.js';
export { type MongoHandle, type StartMongoOptions, startMongo } from './start-mongo.js';
