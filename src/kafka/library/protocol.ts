/**
 * The protocol layer of @platformatic/kafka, by path (why: producer.ts): its request functions of
 * every API version, request definitions, the binary reader and writer and the response error.
 * Every client of the library loads these modules anyway (its connections import every API).
 */
export * from '../../../node_modules/@platformatic/kafka/dist/apis/index.js';
export { Reader } from '../../../node_modules/@platformatic/kafka/dist/protocol/reader.js';
export { Writer } from '../../../node_modules/@platformatic/kafka/dist/protocol/writer.js';
export { ResponseError } from '../../../node_modules/@platformatic/kafka/dist/errors.js';
