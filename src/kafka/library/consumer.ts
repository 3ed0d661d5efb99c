/**
 * @platformatic/kafka's consumer, by path (why: producer.ts): the Kafka source loads it without the
 * admin client and the schema registries.
 */
export { Consumer } from '../../../node_modules/@platformatic/kafka/dist/clients/consumer/consumer.js';
export { FetchIsolationLevels } from '../../../node_modules/@platformatic/kafka/dist/apis/enumerations.js';
