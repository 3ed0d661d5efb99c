/**
 * Kafka's transaction protocol version 2 (KIP-890; docs/kafka.md, "Exactly once"), which
 * @platformatic/kafka 2.12 has no parsers for: the requests and answers, pure, and whether the
 * brokers allow it.
 *
 * With version 2 a transaction needs no AddPartitionsToTxn or AddOffsetsToTxn: Produce v12 and
 * TxnOffsetCommit v5 add their partitions to the transaction themselves (the brokers ask the
 * coordinator), and EndTxn v5 answers with the producer id and epoch of the next transaction (the
 * epoch goes up by one with every transaction, so a late write of an earlier one is refused). The
 * brokers allow it when they speak those versions and the cluster's `transaction.version` feature
 * is finalized at 2 or more (ApiVersions v3+). Produce v12 and TxnOffsetCommit v5 are v11 and v4 on
 * the wire; only EndTxn v5's answer is new.
 */
import { Reader, ResponseError, createAPI, endTxnV4, txnOffsetCommitV4 } from '../../kafka/library/protocol.ts';
import { highestCommonVersion, type BrokerApi } from './api-version.ts';

export const PRODUCE_KEY = 0;
export const END_TXN_KEY = 26;
export const TXN_OFFSET_COMMIT_KEY = 28;
/** The first versions of version 2's requests. */
export const PRODUCE_V2 = 12;
export const END_TXN_V2 = 5;
export const TXN_OFFSET_COMMIT_V2 = 5;
export const TRANSACTION_VERSION_FEATURE = 'transaction.version';

/** A finalized feature of the cluster, as ApiVersions v3+ lists it. */
export interface FinalizedFeature {
  readonly name: string;
  readonly maxVersionLevel: number;
}

/**
 * Which transaction protocol to use with brokers that speak `apis` and finalized `features`: 2 when
 * the feature is at 2 or more and they speak Produce v12, TxnOffsetCommit v5 and EndTxn v5, else 1.
 */
export function transactionProtocol(apis: readonly BrokerApi[], features: readonly FinalizedFeature[]): 1 | 2 {
  const level = features.find((f) => f.name === TRANSACTION_VERSION_FEATURE)?.maxVersionLevel ?? 0;
  if (level < 2) return 1;
  const speaks = (key: number, version: number) => highestCommonVersion(apis, key, [version]) === version;
  return speaks(PRODUCE_KEY, PRODUCE_V2) && speaks(TXN_OFFSET_COMMIT_KEY, TXN_OFFSET_COMMIT_V2) && speaks(END_TXN_KEY, END_TXN_V2) ? 2 : 1;
}

/** EndTxn v5's answer: the producer id and epoch for the next transaction. */
export interface EndTxnV5Response {
  readonly throttleTimeMs: number;
  readonly errorCode: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

/**
 * EndTxn Response (Version: 5) => throttle_time_ms error_code producer_id producer_epoch TAG_BUFFER.
 * An error code throws as the library's answers do (ResponseError, read by outcome.ts's errorNames()).
 */
export function parseEndTxnV5Response(_correlationId: number, apiKey: number, apiVersion: number, reader: Reader): EndTxnV5Response {
  const response = {
    throttleTimeMs: reader.readInt32(),
    errorCode: reader.readInt16(),
    producerId: reader.readInt64(),
    producerEpoch: reader.readInt16(),
  };
  reader.readTaggedFields();
  if (response.errorCode !== 0) throw new ResponseError(apiKey, apiVersion, { '/': [response.errorCode, null] }, response);
  return response;
}

/** EndTxn v5: the request is v4's (transactional_id producer_id producer_epoch committed), the answer parseEndTxnV5Response(). */
export const endTxnV5 = createAPI<Parameters<typeof endTxnV4.createRequest>, EndTxnV5Response>(
  END_TXN_KEY, END_TXN_V2, endTxnV4.createRequest, parseEndTxnV5Response as never,
);

/** TxnOffsetCommit v5: v4 on the wire; the group coordinator adds the offsets partition to the transaction. */
export const txnOffsetCommitV5 = createAPI<Parameters<typeof txnOffsetCommitV4.createRequest>, Awaited<ReturnType<typeof txnOffsetCommitV4.api.async>>>(
  TXN_OFFSET_COMMIT_KEY, TXN_OFFSET_COMMIT_V2, txnOffsetCommitV4.createRequest, txnOffsetCommitV4.parseResponse,
);
