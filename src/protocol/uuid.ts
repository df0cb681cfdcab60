/**
 * Kafka UUIDs (topic ids, KIP-516) are 16 bytes on the wire and printed by Kafka as 22 characters of URL-safe
 * base64 without padding (`Uuid.toString()`); we use that text form so ids compare and print like Kafka's own.
 */

/** The all-zero UUID Kafka uses for "no topic id". */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

export function uuidFromBytes(buf: Buffer, offset: number): string {
  return buf.toString('base64url', offset, offset + 16)
}

/** Writes a UUID given in Kafka's text form into `buf` at `offset`. Throws on text that is not 16 bytes. */
export function uuidToBytes(text: string, buf: Buffer, offset: number): void {
  if (text.length !== 22) throw new TypeError(`not a Kafka UUID (22 base64url characters): ${JSON.stringify(text)}`)
  const written = buf.write(text, offset, 16, 'base64url')
  if (written !== 16 || Buffer.from(text, 'base64url').toString('base64url') !== text) {
    throw new TypeError(`not a Kafka UUID (22 base64url characters): ${JSON.stringify(text)}`)
  }
}
