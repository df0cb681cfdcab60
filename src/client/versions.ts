import type { Api } from '../protocol/api.js'
import { UnsupportedVersionError } from '../protocol/errors.js'
import { formatRange } from '../protocol/versions.js'

/** A broker's supported range for one API, from its ApiVersions answer. */
export interface BrokerApiRange {
  readonly min: number
  readonly max: number
}

/**
 * The version to speak to one broker: the highest both sides support. The client's range is static (from the
 * schemas, with KIP-896's 4.x minimums); the broker's answer only narrows it. Kafka 4.0 still advertises versions
 * it no longer accepts for some APIs (e.g. Produce < v3), so our own minimum is never lowered to the broker's.
 */
export function negotiateVersion(api: Api, broker: BrokerApiRange | undefined, brokerLabel: string): number {
  const ours = api.versions
  if (!broker) {
    throw new UnsupportedVersionError(
      `broker ${brokerLabel} does not offer ${api.name} (api key ${api.key}); Skiff speaks versions ${formatRange(ours)}`,
    )
  }
  const max = Math.min(ours.max, broker.max)
  const min = Math.max(ours.min, broker.min)
  if (max < min) {
    throw new UnsupportedVersionError(
      `no common version of ${api.name} (api key ${api.key}): broker ${brokerLabel} supports ` +
        `${formatRange(broker)}, Skiff speaks ${formatRange(ours)}`,
    )
  }
  return max
}
