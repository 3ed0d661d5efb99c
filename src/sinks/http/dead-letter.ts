/**
 * The HTTP sink's dead-letter file (`deadLetterFile`): the events of a request the receiver
 * refused for good are appended as JSON lines, each the event's JSON under "event" beside what
 * was refused under "deadLetter" (sink, URL, status, answer, time), so nothing is lost and an
 * operator can replay them (docs/http-sink.md, "Dead letters"). The file is created with mode 0640.
 */
import { open } from 'node:fs/promises';
import { StreamerError, describeError } from '../../core/errors.ts';

/** Mode of a dead-letter file the sink creates (as the file sink's output). */
const DEAD_LETTER_MODE = 0o640;

const encoder = new TextEncoder();

/** Why a request's events were dead-lettered. */
export interface Refusal {
  sink: string;
  /** The URL without credentials or query (urls.ts). */
  url: string;
  status: number;
  answer: string;
}

/** The dead-letter lines of `events` (their passthrough JSON), pure. */
export function deadLetterLines(events: readonly Uint8Array[], refusal: Refusal, at: Date): Uint8Array {
  const head = encoder.encode(`{"deadLetter":${JSON.stringify({ ...refusal, at: at.toISOString() })},"event":`);
  const size = events.reduce((n, e) => n + head.length + e.length + 2, 0);
  const out = new Uint8Array(size);
  let offset = 0;
  for (const event of events) {
    out.set(head, offset);
    offset += head.length;
    out.set(event, offset);
    offset += event.length;
    out[offset++] = 0x7d; // }
    out[offset++] = 0x0a;
  }
  return out;
}

/** Appends `data` to `path` (created 0640) and syncs it: dead letters replace an acknowledgement. */
export async function appendDeadLetters(path: string, data: Uint8Array, component: string): Promise<void> {
  try {
    const file = await open(path, 'a', DEAD_LETTER_MODE);
    try {
      let written = 0;
      while (written < data.length) written += (await file.write(data, written)).bytesWritten;
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (err) {
    throw new StreamerError('SINK_WRITE', `cannot append to deadLetterFile '${path}': ${describeError(err)}`, { component, cause: err });
  }
}
