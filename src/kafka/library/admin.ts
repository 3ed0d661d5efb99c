/**
 * @platformatic/kafka's admin client, by path (why: producer.ts), for `check --live`.
 */
export { Admin } from '../../../node_modules/@platformatic/kafka/dist/clients/admin/admin.js';
export { ConfigResourceTypes } from '../../../node_modules/@platformatic/kafka/dist/apis/enumerations.js';
