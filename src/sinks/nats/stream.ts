/**
 * The NATS sink's `stream` expectation (docs/nats.md, "Streams"): at connect, the configured stream
 * must exist; with `createStream = true` a missing one is created, capturing the configured
 * subjects, with file storage and JetStream's default 2-minute duplicate window (the window in
 * which a redelivered `Nats-Msg-Id` is dropped).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { StreamerError } from '../../core/errors.ts';
import type { NatsSinkOptions } from './spec.ts';
import { configuredStreamSubjects } from './subjects.ts';

type StreamKeys = Pick<NatsSinkOptions, 'stream' | 'createStream' | 'tableSubjectMapping' | 'subjectFallback' | 'debeziumSubjects' | 'debeziumTopicPrefix' | 'servers'>;

/** Duplicate window of a stream the sink creates: JetStream's default. */
export const CREATED_DUPLICATE_WINDOW_MS = 120_000;

const isNotFound = (err: unknown): boolean => (err as { name?: unknown } | null)?.name === 'StreamNotFoundError';

/**
 * Checks that `o.stream` exists (creating it when `o.createStream`); returns the subjects of a
 * stream it created, else undefined. A missing stream without createStream is a retryable error
 * (an operator may create it) naming what to do.
 */
export async function ensureStream(jsm: JetStreamManager, o: StreamKeys): Promise<string[] | undefined> {
  const name = o.stream;
  if (name === undefined) return undefined;
  try {
    await jsm.streams.info(name);
    return undefined;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const subjects = configuredStreamSubjects(o);
  if (!o.createStream) {
    throw new StreamerError('SINK_WRITE', `JetStream stream "${name}" does not exist on NATS ${o.servers.join(', ')}: create it ` +
      `(e.g. nats stream add ${name} --subjects ${subjects.map((s) => `'${s}'`).join(',')}) or set createStream = true`);
  }
  const nanosPerMs = 1_000_000;
  await jsm.streams.add({ name, subjects, duplicate_window: CREATED_DUPLICATE_WINDOW_MS * nanosPerMs });
  return subjects;
}
