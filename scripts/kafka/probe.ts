/**
 * Readiness probe for the throwaway Kafka broker: `bun scripts/kafka/probe.ts HOST:PORT [TIMEOUT_MS]`
 * exits 0 once a Metadata request answers with at least one broker and a controller, 1 on timeout.
 * Used by scripts/kafka/start; a TCP connect alone is not enough, the broker accepts connections
 * before it has registered itself with the controller.
 */
import { Admin } from '@platformatic/kafka'

const [broker, timeoutArg] = process.argv.slice(2)
if (broker === undefined) {
  console.error('usage: bun scripts/kafka/probe.ts HOST:PORT [TIMEOUT_MS]')
  process.exit(2)
}
const deadline = Date.now() + Number(timeoutArg ?? 60_000)

/** One metadata round trip; true when the cluster reports a broker and a controller. */
async function answers(): Promise<boolean> {
  const admin = new Admin({ clientId: 'readiness-probe', bootstrapBrokers: [broker!], retries: 0, timeout: 2_000 })
  try {
    const metadata = await admin.metadata({ topics: [] })
    return metadata.brokers.size > 0 && metadata.controllerId >= 0
  } catch {
    return false
  } finally {
    await admin.close().catch(() => {})
  }
}

let lastError = 'no answer'
while (Date.now() < deadline) {
  if (await answers()) process.exit(0)
  lastError = `no metadata from ${broker}`
  await Bun.sleep(100)
}
console.error(`probe: ${lastError} within ${timeoutArg ?? 60_000} ms`)
process.exit(1)
