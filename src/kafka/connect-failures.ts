/**
 * Tells a component at once when its Kafka client cannot open a connection to a broker, with why
 * (docs/operations.md, "Status: connecting"). @platformatic/kafka retries a failed connection
 * inside one call (a consumer's join takes ~15 s of retries to fail against a closed port), and its
 * `client:broker:failed` event names the broker but not the error. The error is published on the
 * library's diagnostics channel `plt:kafka:connections:connects`: it is kept per connection here
 * (weakly), so the event's handler can say "cannot reach broker 127.0.0.1:1: connection refused".
 */
import { tracingChannel } from 'node:diagnostics_channel';
import { describeKafkaError } from './errors.ts';

/** The last connect error of each connection object of the library. */
const errors = new WeakMap<object, unknown>();
let subscribed = false;

/** Subscribes once per process to the library's connect channel (cheap: it fires per connection attempt). */
function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  const noop = () => {};
  tracingChannel('plt:kafka:connections:connects').subscribe({
    start: noop,
    end: noop,
    asyncStart: noop,
    asyncEnd: noop,
    error: (message: unknown) => {
      const context = message as { connection?: object; error?: unknown };
      if (context.connection !== undefined && context.error !== undefined) errors.set(context.connection, context.error);
    },
  });
}

/** What the library's clients (Producer, Consumer, Admin) emit that is used here. */
interface BrokerEvents {
  on(event: 'client:broker:failed', listener: (payload: { broker?: { host: string; port: number }; connection?: object }) => void): unknown;
}

/**
 * Calls `onFailure` with one line each time `client` fails to connect to a broker, e.g.
 * `cannot reach broker 127.0.0.1:1: connection refused (ECONNREFUSED)`.
 */
export function watchConnectFailures(client: BrokerEvents, onFailure: (reason: string) => void): void {
  subscribe();
  client.on('client:broker:failed', ({ broker, connection }) => {
    const error = connection === undefined ? undefined : errors.get(connection);
    const where = broker === undefined ? 'a broker' : `broker ${broker.host}:${broker.port}`;
    onFailure(error === undefined ? `cannot reach ${where}` : describeKafkaError(error));
  });
}
